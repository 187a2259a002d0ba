import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../shared/api/index.ts';
import { buildConsultRequest } from '../shared/protocol/fhir/index.ts';
import { connectEndpointTo, until, type TestEndpoint } from '../testkit/index.ts';
import { createWorkstationCore, type WorkstationCore } from '../main/node/index.ts';
import { PROTOCOL_V as V, startRegionHarness, type RegionHarness } from './testing/region-harness.ts';
import { callCore, unsentCount } from './testing/core-calls.ts';

/**
 * R6: reports written while the broker is unreachable are all delivered, in the order they were written, once it is
 * back. The expert is a real workstation core; its 1,000 consults come from the applicant's clinic system. The
 * applicant's workstation registers (so the hub routes reports to its downlink), then its downlink is read by a bare
 * endpoint, which sees the exact order in which the broker delivers.
 */
const REPORTS = 1_000;
const log = (line: string) => console.log(line);

describe('R6: reports written offline', () => {
  let harness: RegionHarness;
  let expert: WorkstationCore;
  let applicantSide: TestEndpoint | undefined;

  async function registered(core: WorkstationCore, endpointId: string): Promise<void> {
    await harness.setUpWorkstation(core, endpointId, endpointId === 'ws-expert-1' ? harness.expert : harness.applicant);
    await until(
      async () => (await callCore(core, COMMANDS.getSetupState)).registration.state === 'accepted',
      `${endpointId} registered`,
      60_000,
    );
    await until(
      async () => (await callCore(core, COMMANDS.getDirectoryState)).experts === 2,
      `${endpointId}'s directory`,
      60_000,
    );
  }

  beforeAll(async () => {
    harness = await startRegionHarness();
    // The applicant's workstation registers once, so that the hub knows its endpoint; its downlink is then read bare.
    const applicant = createWorkstationCore(harness.coreOptions('ws-applicant-1'));
    await applicant.start();
    await registered(applicant, 'ws-applicant-1');
    await applicant.stop();
    expert = createWorkstationCore(harness.coreOptions('ws-expert-1'));
    await expert.start();
    await registered(expert, 'ws-expert-1');
  }, 180_000);

  afterAll(async () => {
    applicantSide?.close();
    await expert?.stop();
    await harness?.stop();
  });

  it(`delivers ${REPORTS} reports signed while offline, in the order written, none lost, none twice`, async () => {
    const { expert: ahmed, applicant: berg } = harness;
    const patient = { family: 'Offline', given: ['Test'], gender: 'female' as const, birthDate: '1970-01-01' };
    let started = Date.now();
    const caseIds = Array.from({ length: REPORTS }, () => randomUUID());
    // Sealing is CPU-bound: a few at a time keeps both cores busy without flooding the broker link.
    for (let i = 0; i < caseIds.length; i += 20) {
      await Promise.all(
        caseIds.slice(i, i + 20).map((caseId) =>
          harness.sendAsClinic('clinic-b', {
            properties: {
              rtsType: 'consult.request',
              rtsVersion: V,
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
                  priority: 'routine',
                  reason: `Offline case ${caseId}`,
                },
              ),
            signer: berg,
            recipients: [ahmed.encryption.certificate, berg.encryption.certificate],
          }),
        ),
      );
    }
    const sendConsultsS = (Date.now() - started) / 1000;
    started = Date.now();
    await until(
      async () => (await callCore(expert, COMMANDS.countCases)).new === REPORTS,
      `${REPORTS} consults in the expert's inbox`,
      240_000,
    );
    // The expert's receipts for them leave before the broker goes, so that only reports wait in the outbox.
    await until(async () => (await unsentCount(expert)) === 0, 'the receipts sent', 120_000);
    const inboxS = (Date.now() - started) / 1000;

    await harness.broker.kill();
    let offlineS: number | undefined;
    try {
      await until(
        async () => (await callCore(expert, COMMANDS.getConnectionState)).status !== 'online',
        'the expert offline',
        30_000,
      );
      started = Date.now();
      for (const [i, caseId] of caseIds.entries()) {
        await callCore(expert, COMMANDS.sendReport, { caseId, conclusion: `Report ${i + 1} of ${REPORTS}` });
      }
      offlineS = (Date.now() - started) / 1000;
      expect(await unsentCount(expert)).toBe(REPORTS);
    } finally {
      await harness.broker.restart();
      await harness.connectClinics();
    }

    started = Date.now();
    applicantSide = await connectEndpointTo(harness.broker, 'ws-applicant-1');
    const isReport = (m: { properties: Record<string, string | number> }) => m.properties.rtsType === 'consult.report';
    await applicantSide.waitForCount(isReport, REPORTS, 'the reports at the applicant', 240_000);
    const drainS = (Date.now() - started) / 1000;
    await until(async () => (await unsentCount(expert)) === 0, "the expert's outbox empty", 60_000);
    // Anything late (a duplicate re-sent after an ambiguous settlement) would arrive by now.
    await new Promise((r) => setTimeout(r, 2_000));

    const reports = applicantSide.received.filter(isReport);
    const arrived = reports.map((m) => String(m.properties.rtsCase));
    const delivered = new Set(arrived).size;
    const duplicates = arrived.length - delivered;
    const lost = caseIds.filter((id) => !arrived.includes(id)).length;
    const inOrder = arrived.every((id, i) => id === caseIds[i]);
    log(
      `R6 phases: consults_sent_s=${sendConsultsS.toFixed(1)} inbox_s=${inboxS.toFixed(1)} written_offline_s=${offlineS?.toFixed(1)}`,
    );
    log(
      `R6: reports=${REPORTS} delivered=${delivered} in_order=${inOrder} lost=${lost} duplicates=${duplicates} drain_s=${drainS.toFixed(1)}`,
    );
    expect({ delivered, inOrder, lost, duplicates }).toEqual({
      delivered: REPORTS,
      inOrder: true,
      lost: 0,
      duplicates: 0,
    });
    // Every one of them is the expert's signed report, sent by the expert's workstation through the hub.
    expect(
      new Set(reports.map((m) => `${m.properties.rtsSender} ${m.properties.rtsFromPractitioner} ${m.userId}`)),
    ).toEqual(new Set(['ws-expert-1 clinic-a.dr-ahmed rts-hub']));
  }, 600_000);
});
