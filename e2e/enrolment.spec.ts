import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import {
  certificateFingerprint,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  signEnrolment,
} from '../shared/enrolment/index.ts';
import { createPkcs12, derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../shared/pki/index.ts';
import { endpointCredentials } from '../scripts/test-env/index.ts';
import type { WorkstationCore } from '../main/node/index.ts';
import { P12_PASSWORD } from '../integration/testing/region-harness.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * A workstation joins its region with the one enrolment file the administrator made, as `rts region add-endpoint`
 * makes it (signed by the region's enrolment signer, issued by the region CA the hub trusts): over TLS to the private
 * broker's amqps listener, checked against the server name `localhost` its certificate carries. Then the
 * practitioner's certificates, and a consultation to an expert whose acceptance comes back over the same link.
 */

const harness = regionForThisFile();

async function call<C extends CommandChannel>(
  core: WorkstationCore,
  command: C,
  input: CommandInput<C>,
): Promise<CommandOutput<C>> {
  const result = await core.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<C>;
}

/** The enrolment file of a workstation for the private broker's TLS port, written where a user would pick it. */
async function writeEnrolmentFile(endpointId: string): Promise<string> {
  const signer = await harness.region.issue('clinic-system', ENROLMENT_SIGNER_COMMON_NAME);
  const certificate = (der: Uint8Array) => derToPem(der, PEM_LABELS.certificate);
  const file = await signEnrolment(
    {
      format: ENROLMENT_FORMAT,
      region: 'Test Region',
      endpoint: { id: endpointId, kind: 'workstation' },
      broker: {
        hosts: [{ host: '127.0.0.1', port: harness.broker.rabbitmq!.nodes[0]!.tlsPort }],
        vhost: harness.broker.rabbitmq!.vhost,
        username: endpointId,
        tlsCaPem: readFileSync(harness.broker.rabbitmq!.tlsCaFile, 'utf8'),
        tlsServerName: 'localhost',
      },
      caCertificatePem: certificate(harness.region.ca.certificate),
      crlPem: readFileSync(harness.region.files.crl, 'utf8'),
      hubCertificatePem: certificate(harness.region.hub.certificate),
      issuedAt: new Date().toISOString(),
    },
    signer,
  );
  const dir = join(harness.dir, 'enrolment');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${endpointId}.rtsenrol`);
  writeFileSync(path, file);
  return path;
}

async function expectAccessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  const findings = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${screen}: ${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}`,
    );
  expect(findings).toEqual([]);
}

test('a tampered enrolment file is refused on the first-run screen with one clear message, and nothing is set up', async ({
  openWorkstation,
}) => {
  const { dataDir: _shared, ...options } = harness.coreOptions('ws-tampered');
  const { core, page } = await openWorkstation(options);
  const bytes = readFileSync(await writeEnrolmentFile('ws-applicant-1'));
  const at = bytes.indexOf('Test Region');
  expect(at).toBeGreaterThan(0);
  bytes[at] = 'B'.charCodeAt(0); // "Best Region"
  const tampered = join(harness.dir, 'enrolment', 'tampered.rtsenrol');
  writeFileSync(tampered, bytes);

  await page.getByLabel('Enrolment file (.rtsenrol)').setInputFiles(tampered);
  const alert = page.getByRole('form', { name: 'Enrolment file' }).getByRole('alert');
  await expect(alert).toHaveAttribute('data-code', 'enrolment-refused');
  await expect(alert).toHaveText(
    /^The enrolment file's signature is refused: .*altered after signing.*\. Nothing was changed\.$/,
  );
  await expect(page.getByTestId('enrolment-ca-fingerprint')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Join the region' })).toBeDisabled();
  await page.screenshot({ path: `${SCREENSHOTS}/enrolment-tampered.png`, fullPage: true });
  const setup = await call(core, COMMANDS.getSetupState, undefined);
  expect(setup.profile).toBeUndefined();
  expect(setup.identity?.trust.anchors).toEqual([]);
});

test('a workstation joins with one enrolment file over TLS, and a consultation goes to the expert and its acceptance comes back', async ({
  openWorkstation,
}) => {
  test.setTimeout(180_000);
  const applicant = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  const page = applicant.page;
  await expect(page.getByRole('heading', { name: 'Set up this workstation' })).toBeVisible();

  // The file, then what it holds: the user compares the CA fingerprint with the administrator's.
  await page.getByLabel('Enrolment file (.rtsenrol)').setInputFiles(await writeEnrolmentFile('ws-applicant-1'));
  await expect(page.getByTestId('enrolment-ca-fingerprint')).toHaveText(
    await certificateFingerprint(harness.region.ca.certificate),
  );
  await expect(page.getByTestId('enrolment-region')).toHaveText('Test Region');
  await expect(page.getByTestId('enrolment-endpoint')).toHaveText('ws-applicant-1');
  await expect(page.getByTestId('enrolment-broker')).toHaveText(
    `RabbitMQ at 127.0.0.1:${harness.broker.rabbitmq!.nodes[0]!.tlsPort}, virtual host ${harness.broker.rabbitmq!.vhost}, TLS (server name localhost)`,
  );
  await expectAccessible(page, 'first run, enrolment file read');
  await page.screenshot({ path: `${SCREENSHOTS}/enrolment-read.png`, fullPage: true });
  await page
    .getByLabel('Broker password of ws-applicant-1')
    .fill(endpointCredentials(harness.broker.rabbitmq!, 'ws-applicant-1').password);
  await page.getByRole('button', { name: 'Join the region' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Joined Test Region as ws-applicant-1.' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Trust' })).toHaveCount(0); // the step-by-step path stays folded
  await expect(page.getByTestId('joined-profile')).toHaveText(
    `This workstation is ws-applicant-1 at 127.0.0.1:${harness.broker.rabbitmq!.nodes[0]!.tlsPort} over TLS.`,
  );

  // Only the practitioner's certificates remain.
  for (const use of ['signing', 'encryption'] as const) {
    const identity = harness.applicant[use];
    const file = join(harness.dir, 'enrolment', `dr-berg.${use}.p12`);
    writeFileSync(
      file,
      await createPkcs12({
        privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
        certificate: identity.certificate,
        chain: [],
        password: P12_PASSWORD,
      }),
    );
    await page.getByLabel('Certificate', { exact: true }).selectOption(use);
    await page.getByLabel('PKCS#12 file (.p12)').setInputFiles(file);
    await page.getByLabel('Password of the file').fill(P12_PASSWORD);
    await page.getByRole('button', { name: `Import ${use} certificate` }).click();
    if (use === 'signing')
      await expect(page.getByRole('table', { name: 'Your certificates' }).getByRole('row')).toHaveCount(2);
  }

  // Online over the TLS port, and registered with the hub.
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect(page.getByRole('status', { name: 'Broker connection: Online' })).toBeVisible({ timeout: 30_000 });
  expect(await call(applicant.core, COMMANDS.getConnectionState, undefined)).toMatchObject({
    status: 'online',
    host: `127.0.0.1:${harness.broker.rabbitmq!.nodes[0]!.tlsPort}`,
  });
  await expect
    .poll(
      async () => {
        const setup = await call(applicant.core, COMMANDS.getSetupState, undefined);
        const directory = await call(applicant.core, COMMANDS.getDirectoryState, undefined);
        return setup.registration.state === 'accepted' && directory.experts >= 2;
      },
      { message: 'registered with the directory mirrored', timeout: 30_000 },
    )
    .toBe(true);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByLabel('TLS (amqps)')).toBeChecked();
  await expect(page.getByLabel('TLS server name (optional)')).toHaveValue('localhost');
  await page.screenshot({ path: `${SCREENSHOTS}/enrolment-settings.png`, fullPage: true });
  // Saved again from Settings unchanged, the TLS profile keeps its CA and server name, and connects again.
  const before = (await call(applicant.core, COMMANDS.getSetupState, undefined)).profile;
  expect(before?.tls).toEqual({
    caPem: readFileSync(harness.broker.rabbitmq!.tlsCaFile, 'utf8'),
    servername: 'localhost',
  });
  await page.getByRole('button', { name: 'Save and connect' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  expect((await call(applicant.core, COMMANDS.getSetupState, undefined)).profile).toEqual(before);
  await expect(page.getByRole('status', { name: 'Broker connection: Online' })).toBeVisible({ timeout: 30_000 });

  // The expert, set up the step-by-step way on plain loopback AMQP.
  const expert = await openWorkstation(harness.coreOptions('ws-expert-1'));
  await harness.setUpWorkstation(expert.core, 'ws-expert-1', harness.expert);
  await expect
    .poll(async () => (await call(expert.core, COMMANDS.getSetupState, undefined)).registration.state, {
      timeout: 30_000,
    })
    .toBe('accepted');

  // The consultation, composed on the enrolled workstation.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'New consultation' }).click();
  await page.getByLabel('Search the directory').fill('cardiology nordby');
  await page.getByRole('button', { name: /^Choose .*Ahmed/ }).click();
  await page.getByLabel('Family name').fill('Nilsen');
  await page.getByLabel('Given names').fill('Kari');
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Birth date').fill('1961-04-12');
  await page
    .getByLabel('Reason for the consultation (required)')
    .fill('Chest pain since 06:00, ST elevation in II, III, aVF.');
  await page.getByLabel('Question to the expert').fill('Thrombolysis before transfer?');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const caseScreen = page.getByTestId('case-screen');
  await expect(caseScreen).toBeVisible();
  const caseId = (await caseScreen.getAttribute('data-case-id'))!;
  await expect(page.getByTestId('case-status')).toHaveText('Requested');

  // The expert receives it, verified, and accepts; the acceptance comes back to the enrolled workstation.
  await expert.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
  const row = expert.page.locator(`[data-testid="inbox-row"][data-case-id="${caseId}"]`);
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.click();
  await expect(expert.page.getByTestId('patient-summary')).toContainText('Kari Nilsen');
  await expect(expert.page.getByTestId('history-row').first().getByTestId('signature-verified')).toContainText(
    /Signed by Test Berg \(Sørvik Health Centre\) at .*; signature and certificate chain to the region's CA checked/,
  );
  await expert.page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(page.getByTestId('case-status')).toHaveText('Accepted', { timeout: 30_000 });
});
