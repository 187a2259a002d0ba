import { randomUUID } from 'node:crypto';
import { endpointCredentials, loadBrokerEnv } from '../scripts/test-env/index.ts';
import { createKeychainVault, brokerPasswordAccount } from '../main/node/index.ts';
import { SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const env = loadBrokerEnv();
const ENDPOINT = 'ws-expert-1';

test('shows the app frame with the live broker connection of a configured workstation', async ({ openWorkstation }) => {
  const vault = createKeychainVault(`rts-e2e-${randomUUID()}`, { keytarItems: 'none' });
  await vault.set(brokerPasswordAccount(ENDPOINT), endpointCredentials(env, ENDPOINT).password);
  const broker = { host: '127.0.0.1', port: env.nodes[0]!.amqpPort };
  const { page } = await openWorkstation({
    productName: 'RTS Workstation',
    version: '0.1.0-e2e',
    vault,
    broker: { hosts: [broker], vhost: env.vhost, endpointId: ENDPOINT },
  });

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('RTS Workstation');
  await expect(page.getByRole('status', { name: 'Broker connection: Online' })).toBeVisible();
  await expect(page.getByTestId('connection-host')).toHaveText(`${broker.host}:${broker.port}`);
  await expect(page.getByText('Version 0.1.0-e2e')).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/app-frame-online.png` });
  await vault.delete(brokerPasswordAccount(ENDPOINT));
});

test('says why it is offline when the keychain holds no broker password', async ({ openWorkstation }) => {
  const vault = createKeychainVault(`rts-e2e-${randomUUID()}`, { keytarItems: 'none' });
  const { page } = await openWorkstation({
    productName: 'RTS Workstation',
    version: '0.1.0-e2e',
    vault,
    broker: { hosts: [{ host: '127.0.0.1', port: env.nodes[0]!.amqpPort }], vhost: env.vhost, endpointId: ENDPOINT },
  });
  await expect(page.getByRole('status', { name: 'Broker connection: Offline' })).toBeVisible();
  await expect(page.getByTestId('connection-reason')).toHaveText(
    `No broker password for endpoint ${ENDPOINT} in the OS keychain.`,
  );
  await page.screenshot({ path: `${SCREENSHOTS}/app-frame-offline.png` });
});

test('says plainly that no region is configured yet', async ({ openWorkstation }) => {
  const { page } = await openWorkstation({
    productName: 'RTS Workstation',
    version: '0.1.0-e2e',
    vault: createKeychainVault(`rts-e2e-${randomUUID()}`, { keytarItems: 'none' }),
  });
  await expect(page.getByRole('status', { name: 'Broker connection: Not configured' })).toBeVisible();
  await expect(page.getByRole('banner').getByRole('note')).toHaveCount(0);
  await expect(page.getByTestId('connection-reason')).toHaveText('No region is configured yet.');
});

test('enforces the content security policy: no injected inline script, no network requests', async ({
  openWorkstation,
}) => {
  const { page } = await openWorkstation({
    productName: 'RTS Workstation',
    version: '0.1.0-e2e',
    vault: createKeychainVault(`rts-e2e-${randomUUID()}`, { keytarItems: 'none' }),
  });
  const violation = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
        const script = document.createElement('script');
        script.textContent = 'window.__injected = true';
        document.body.append(script);
      }),
  );
  expect(violation).toBe('script-src-elem');
  expect(await page.evaluate(() => (window as { __injected?: boolean }).__injected)).toBeUndefined();
  const fetchBlocked = await page.evaluate(() =>
    fetch('http://127.0.0.1:9/').then(
      () => false,
      () => true,
    ),
  );
  expect(fetchBlocked).toBe(true);
});

test('labels the demo region in the title bar, and only the demo region', async ({ openWorkstation }) => {
  const { page } = await openWorkstation({
    productName: 'RTS Workstation',
    version: '0.1.0-e2e',
    vault: createKeychainVault(`rts-e2e-${randomUUID()}`, { keytarItems: 'none' }),
    broker: {
      hosts: [{ host: '127.0.0.1', port: env.nodes[0]!.amqpPort }],
      vhost: env.vhost,
      endpointId: ENDPOINT,
      demo: true,
    },
  });
  await expect(page.getByRole('banner').getByRole('note')).toHaveText(
    'Demo region: invented people, not for patient data',
  );
  await page.screenshot({ path: `${SCREENSHOTS}/demo-label.png` });
});
