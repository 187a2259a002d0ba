import { randomUUID } from 'node:crypto';
import { COMMANDS } from '../shared/api/index.ts';
import { buildConsultRequest } from '../shared/protocol/fhir/index.ts';
import { killNode, restartNode } from '../scripts/test-env/index.ts';
import { PROTOCOL_V } from '../integration/testing/region-harness.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

const patient = { family: 'Haugen', given: ['Ola'], gender: 'male' as const, birthDate: '1948-02-03' };

test('shows refused messages with their reason, and an offline outbox that drains when the broker returns', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-expert-1'));
  await harness.setUpWorkstation(core, 'ws-expert-1', harness.expert);
  await expect(page.getByRole('status', { name: 'Broker connection: Online' })).toBeVisible();
  await expect
    .poll(
      async () =>
        ((await core.dispatch(COMMANDS.getDirectoryState, undefined)) as { value?: { experts: number } }).value
          ?.experts,
    )
    .toBe(2);

  // A consult damaged on its way, and one not encrypted to this practitioner.
  const request = (damage?: (body: Uint8Array) => void, recipients = [harness.expert.encryption.certificate]) => {
    const caseId = randomUUID();
    return harness.sendAsClinic('clinic-b', {
      properties: {
        rtsType: 'consult.request',
        rtsVersion: PROTOCOL_V,
        rtsSender: 'clinic-b',
        rtsCase: caseId,
        rtsFromPractitioner: 'clinic-b.dr-berg',
        rtsToPractitioner: 'clinic-a.dr-ahmed',
        rtsSequence: 1,
      },
      payload: (messageId, timestamp) =>
        buildConsultRequest(
          { messageId, timestamp, sender: 'clinic-b' },
          {
            caseId,
            from: 'clinic-b.dr-berg',
            to: 'clinic-a.dr-ahmed',
            sequence: 1,
            patient,
            priority: 'urgent',
            reason: 'Syncope',
          },
        ),
      signer: harness.applicant,
      recipients,
      ...(damage && { damage }),
    });
  };
  await request((body) => {
    body[body.length - 30] = body[body.length - 30]! ^ 0x01;
  });
  await request(undefined, [harness.applicant.encryption.certificate]);
  await page.getByRole('button', { name: 'Refused messages' }).click();
  const table = page.getByRole('table', { name: 'Refused messages' });
  await expect(table.getByRole('row')).toHaveCount(3);
  await expect(table).toContainText('decrypt-failed');
  await expect(table).toContainText('not-a-recipient');
  await expect(page.getByText('Haugen')).toHaveCount(0);
  await page.screenshot({ path: `${SCREENSHOTS}/refused-messages.png`, fullPage: true });

  // Offline: what the expert sends now waits in the outbox, and the app says so.
  await killNode(process.env.RTS_TEST_BROKER_STATE!, 0);
  try {
    await expect(page.getByTestId('offline-banner')).toBeVisible({ timeout: 20_000 });
    for (const reason of ['Palpitations at rest', 'Second opinion on an echo']) {
      const sent = await core.dispatch(COMMANDS.createConsult, {
        expertId: 'clinic-b.dr-berg',
        patient,
        priority: 'routine',
        reason,
      });
      expect(sent.ok).toBe(true);
    }
    await page.getByRole('button', { name: /^Outbox/ }).click();
    await expect(page.getByTestId('outbox-pending')).toHaveText('2');
    await expect(page.getByTestId('offline-banner')).toContainText('2 messages wait in the outbox');
    await page.screenshot({ path: `${SCREENSHOTS}/outbox-offline.png`, fullPage: true });
  } finally {
    await restartNode(process.env.RTS_TEST_BROKER_STATE!, 0);
    await harness.connectClinics();
  }
  await expect(page.getByTestId('offline-banner')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('outbox-pending')).toHaveText('0', { timeout: 30_000 });
});
