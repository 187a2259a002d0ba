import { createPrivateKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, EVENTS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import type { ApplicationProperties } from '../shared/protocol/index.ts';
import { buildConsultReport, buildConsultRequest } from '../shared/protocol/fhir/index.ts';
import { expertEntry, loadBrokerUnderTest, until, type TestPractitioner } from '../testkit/index.ts';
import { createWorkstationCore, keyAccountFor, STORE_KEY_ACCOUNT, type WorkstationCore } from '../main/node/index.ts';
import { derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../shared/pki/index.ts';
import {
  P12_PASSWORD,
  PROTOCOL_V as V,
  startRegionHarness,
  type ClinicId,
  type RegionHarness,
} from './testing/region-harness.ts';

/**
 * Two workstation cores (an applicant's and an expert's) against the real broker and the real hub: registration and
 * snapshot, a consult round trip with a verified report, work while the broker is down, and refusals with reasons.
 */
const broker = loadBrokerUnderTest();

interface Workstation {
  readonly core: WorkstationCore;
  readonly events: { event: string; payload: unknown }[];
  readonly call: <C extends CommandChannel>(
    command: C,
    ...input: CommandInput<C> extends undefined ? [] : [CommandInput<C>]
  ) => Promise<CommandOutput<C>>;
  readonly until: <T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs?: number) => Promise<T>;
}

describe('workstation core on the real broker and hub', () => {
  let harness: RegionHarness;
  let expert: TestPractitioner;
  let applicant: TestPractitioner;
  let expertWs: Workstation;
  let applicantWs: Workstation;
  const clinics = new Proxy({} as RegionHarness['clinics'], { get: (_, id: ClinicId) => harness.clinics[id] });

  /** Starts a core on the endpoint's data directory and keychain service (the same ones again after a restart). */
  async function startWorkstation(endpointId: string): Promise<Workstation> {
    const core = createWorkstationCore(harness.coreOptions(endpointId));
    const events: { event: string; payload: unknown }[] = [];
    core.onEvent((event, payload) => events.push({ event, payload }));
    await core.start();
    const call = (async (command: CommandChannel, input?: unknown) => {
      const result = await core.dispatch(command, input);
      if (!result.ok) throw new Error(`${endpointId} ${command}: ${result.error.code}: ${result.error.message}`);
      return result.value;
    }) as Workstation['call'];
    const waitFor: Workstation['until'] = (probe, what, timeoutMs) => until(probe, `${endpointId}: ${what}`, timeoutMs);
    return { core, events, call, until: waitFor };
  }

  async function openWorkstation(endpointId: string, practitioner: TestPractitioner): Promise<Workstation> {
    const ws = await startWorkstation(endpointId);
    await harness.setUpWorkstation(ws.core, endpointId, practitioner);
    return ws;
  }

  beforeAll(async () => {
    harness = await startRegionHarness();
    ({ expert, applicant } = harness);
    expertWs = await openWorkstation('ws-expert-1', expert);
    applicantWs = await openWorkstation('ws-applicant-1', applicant);
  }, 120_000);

  afterAll(async () => {
    await expertWs?.core.stop();
    await applicantWs?.core.stop();
    await harness?.stop();
  });

  it('registers both workstations and mirrors the directory they were sent, searchable', async () => {
    for (const ws of [expertWs, applicantWs]) {
      await ws.until(
        async () => (await ws.call(COMMANDS.getSetupState)).registration.state === 'accepted',
        'registration accepted',
      );
      // The renderer hears of it too: the progress event follows the commit by one turn of the event loop.
      const state = await ws.until(async () => {
        const s = await ws.call(COMMANDS.getDirectoryState);
        const told = ws.events.some((e) => e.event === EVENTS.directorySyncProgress);
        return s.version === 2 && s.experts === 2 && told ? s : undefined;
      }, 'snapshot at version 2, announced');
      expect(state).toMatchObject({ behind: false, refused: [] });
    }
    const found = await applicantWs.call(COMMANDS.searchDirectory, { text: 'cardio nordby' });
    expect(found.experts.map((e) => e.practitionerId)).toEqual(['clinic-a.dr-ahmed']);
    const detail = await applicantWs.call(COMMANDS.getExpert, { practitionerId: 'clinic-a.dr-ahmed' });
    expect(detail).toMatchObject({
      organization: 'Nordby Hospital',
      endpoints: ['ws-expert-1'],
      specialties: ['Cardiology'],
    });
    expect(detail.certificates.map((c) => `${c.use}:${c.state}`)).toEqual(['signing:valid', 'encryption:valid']);
  });

  const patient = {
    family: 'Nilsen',
    given: ['Kari'],
    gender: 'female' as const,
    birthDate: '1961-04-12',
    identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '12046112345' }],
  };
  const at = () => new Date().toISOString();
  const caseOf = (ws: Workstation, caseId: string) =>
    ws.call(COMMANDS.listCases, {}).then((all) => all.find((c) => c.caseId === caseId));
  const compose = () =>
    applicantWs.call(COMMANDS.createConsult, {
      expertId: 'clinic-a.dr-ahmed',
      patient,
      priority: 'urgent',
      reason: 'Chest pain since 06:00, ST elevation in II, III, aVF',
      question: 'Thrombolysis before transfer?',
      vitals: [
        { sign: 'heartRate', value: 104, effective: at() },
        { sign: 'oxygenSaturation', value: 93, effective: at() },
      ],
      bloodPressure: [{ systolic: 96, diastolic: 61, effective: at() }],
      waveforms: [
        {
          kind: 'ecg',
          effective: at(),
          periodMs: 4,
          series: [
            { lead: 'II', samples: [0, 0.1, 0.9, -0.2, 0.05] },
            { lead: 'III', samples: [0, 0.2, 1.1, -0.1, 0.1] },
          ],
        },
      ],
      attachments: [
        {
          title: 'referral.txt',
          contentType: 'text/plain',
          base64: Buffer.from('Referral letter').toString('base64'),
          size: 15,
        },
      ],
    });

  it('carries a consult to the expert and a signed report back, each verified on arrival and decrypted on open', async () => {
    const created = await compose();
    expect(created).toMatchObject({
      role: 'applicant',
      status: 'requested',
      expertId: 'clinic-a.dr-ahmed',
      applicantId: 'clinic-b.dr-berg',
    });
    const incoming = await expertWs.until(() => caseOf(expertWs, created.caseId), 'the request at the expert');
    expect(incoming).toMatchObject({
      role: 'expert',
      status: 'requested',
      unread: true,
      priority: 'urgent',
      applicantId: 'clinic-b.dr-berg',
    });
    expect(expertWs.events).toContainEqual({
      event: EVENTS.caseChanged,
      payload: expect.objectContaining({ isNew: true, summary: expect.objectContaining({ caseId: created.caseId }) }),
    });

    const opened = await expertWs.call(COMMANDS.openCase, { caseId: created.caseId });
    expect(opened).toMatchObject({
      patient,
      reason: 'Chest pain since 06:00, ST elevation in II, III, aVF',
      question: 'Thrombolysis before transfer?',
      unread: false,
    });
    expect(opened.vitals.map((v) => `${v.code}=${v.value}${v.unit}`)).toEqual(['8867-4=104/min', '59408-5=93%']);
    expect(opened.bloodPressure).toMatchObject([{ systolic: 96, diastolic: 61 }]);
    expect(opened.waveforms[0]!.series.map((x) => [x.lead, x.samples])).toEqual([
      ['II', [0, 0.1, 0.9, -0.2, 0.05]],
      ['III', [0, 0.2, 1.1, -0.1, 0.1]],
    ]);
    expect(Buffer.from(opened.attachments[0]!.base64, 'base64').toString()).toBe('Referral letter');
    expect(opened.messages).toMatchObject([
      {
        direction: 'in',
        type: 'consult.request',
        state: 'verified',
        signer: {
          subject: expect.stringContaining('CN=clinic-b.dr-berg'),
          practitionerId: 'clinic-b.dr-berg',
          name: 'Test Berg',
        },
      },
    ]);

    await expertWs.call(COMMANDS.actOnCase, { caseId: created.caseId, action: 'accept' });
    const refused = await expertWs.core.dispatch(COMMANDS.actOnCase, {
      caseId: created.caseId,
      action: 'cancel',
      note: 'not mine to cancel',
    });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'not-allowed', message: 'Only the applicant can mark a case cancelled.' },
    });
    await expertWs.call(COMMANDS.sendReport, {
      caseId: created.caseId,
      findings: 'Inferior STEMI.',
      conclusion: 'Give thrombolysis now, then transfer for PCI.',
      diagnoses: [
        {
          system: 'http://hl7.org/fhir/sid/icd-10',
          code: 'I21.1',
          text: 'Acute transmural myocardial infarction of inferior wall',
        },
      ],
      prescriptions: [
        { medication: 'Tenecteplase', dose: 40, unit: 'mg', frequency: 1, period: 1, periodUnit: 'd', route: 'IV' },
      ],
    });

    await applicantWs.until(
      async () => (await caseOf(applicantWs, created.caseId))?.status === 'completed',
      'the report at the applicant',
    );
    const view = await applicantWs.call(COMMANDS.openCase, { caseId: created.caseId });
    expect(view.report).toMatchObject({
      verified: true,
      findings: 'Inferior STEMI.',
      conclusion: 'Give thrombolysis now, then transfer for PCI.',
      diagnoses: [{ code: 'I21.1' }],
      prescriptions: [{ medication: 'Tenecteplase', dose: 40, unit: 'mg', route: 'IV' }],
      signer: {
        subject: expect.stringContaining('CN=clinic-a.dr-ahmed'),
        practitionerId: 'clinic-a.dr-ahmed',
        name: 'Test Ahmed',
      },
    });
    expect(view.messages.map((m) => `${m.direction}:${m.status}:${m.state}`)).toEqual([
      'out:requested:processed',
      'in:accepted:verified',
      'in:completed:verified',
    ]);
    // The expert's steps were taken by the applicant's workstation: its receipts reach the expert.
    await expertWs.until(
      async () =>
        (await expertWs.call(COMMANDS.openCase, { caseId: created.caseId })).messages.every(
          (m) => m.state === 'verified' || m.state === 'processed',
        ),
      "the applicant's receipts",
    );
    expect(await applicantWs.call(COMMANDS.recordExport, { caseId: created.caseId, form: 'pdf' })).toEqual({
      recorded: true,
    });
    expect(await applicantWs.core.dispatch(COMMANDS.recordExport, { caseId: randomUUID(), form: 'pdf' })).toMatchObject(
      { ok: false, error: { code: 'not-found' } },
    );
    for (const ws of [expertWs, applicantWs]) expect(await ws.call(COMMANDS.checkAuditLog)).toMatchObject({ ok: true });
  });

  it('lets the expert answer while the broker is down and delivers the answer in order once it is back', async () => {
    const created = await compose();
    await expertWs.until(() => caseOf(expertWs, created.caseId), 'the request at the expert');
    await broker.kill();
    try {
      await expertWs.until(
        async () => (await expertWs.call(COMMANDS.getConnectionState)).status !== 'online',
        'the expert offline',
      );
      expect((await expertWs.call(COMMANDS.openCase, { caseId: created.caseId })).patient).toMatchObject({
        family: 'Nilsen',
      });
      await expertWs.call(COMMANDS.actOnCase, { caseId: created.caseId, action: 'accept' });
      await expertWs.call(COMMANDS.actOnCase, {
        caseId: created.caseId,
        action: 'request-information',
        note: 'Please send a troponin result.',
      });
      // Both steps wait in the outbox (with the receipt of the request, if the broker went before it did).
      const offline = await expertWs.call(COMMANDS.openCase, { caseId: created.caseId });
      expect(offline.messages.map((m) => `${m.direction}:${m.status}:${m.state}`)).toEqual([
        'in:requested:verified',
        'out:accepted:queued',
        'out:more-information-needed:queued',
      ]);
      expect((await expertWs.call(COMMANDS.getOutboxState)).pending).toBeGreaterThanOrEqual(2);
    } finally {
      await broker.restart();
      await harness.connectClinics();
    }
    await applicantWs
      .until(
        async () => (await caseOf(applicantWs, created.caseId))?.status === 'more-information-needed',
        'the answer after the broker returned',
        90_000,
      )
      .catch(async (error: Error) => {
        const states = await Promise.all(
          [expertWs, applicantWs].map(async (ws) => ({
            connection: await ws.call(COMMANDS.getConnectionState),
            outbox: await ws.call(COMMANDS.getOutboxState),
            case: (await ws.call(COMMANDS.openCase, { caseId: created.caseId })).messages.map(
              (m) => `${m.direction}:${m.status}:${m.state}`,
            ),
          })),
        );
        throw new Error(`${error.message}; expert, applicant: ${JSON.stringify(states)}`);
      });
    const view = await applicantWs.call(COMMANDS.openCase, { caseId: created.caseId });
    expect(view.messages.map((m) => `${m.direction}:${m.status}`)).toEqual([
      'out:requested',
      'in:accepted',
      'in:more-information-needed',
    ]);
    expect(view.messages[2]).toMatchObject({ note: 'Please send a troponin result.' });
    await applicantWs.call(COMMANDS.actOnCase, {
      caseId: created.caseId,
      action: 'provide-information',
      note: 'Troponin T 180 ng/L.',
    });
    await expertWs.until(
      async () => (await caseOf(expertWs, created.caseId))?.status === 'information-provided',
      "the applicant's answer",
    );
    await expertWs.until(async () => {
      const { pending, inFlight } = await expertWs.call(COMMANDS.getOutboxState);
      return pending + inFlight === 0;
    }, 'an empty outbox');
  }, 180_000);

  it('refuses a tampered or misaddressed consult with a reason both sides can see, and keeps working', async () => {
    const request = (caseId: string): [ApplicationProperties, (id: string, t: Date) => Bundle] => [
      {
        rtsType: 'consult.request',
        rtsVersion: V,
        rtsSender: 'clinic-b',
        rtsCase: caseId,
        rtsFromPractitioner: 'clinic-b.dr-berg',
        rtsToPractitioner: 'clinic-a.dr-ahmed',
        rtsSequence: 1,
      },
      (messageId, timestamp) =>
        buildConsultRequest(
          { messageId, timestamp, sender: 'clinic-b' },
          {
            caseId,
            from: 'clinic-b.dr-berg',
            to: 'clinic-a.dr-ahmed',
            sequence: 1,
            patient,
            priority: 'routine',
            reason: 'Rash',
          },
        ),
    ];
    const flipLast = (body: Uint8Array) => {
      const at = body.length - 20;
      body[at] = body[at]! ^ 0xff;
    };
    const send = (
      [properties, payload]: ReturnType<typeof request>,
      recipients: Uint8Array[],
      damage?: (body: Uint8Array) => void,
    ) =>
      harness.sendAsClinic('clinic-b', {
        properties,
        payload,
        signer: applicant,
        recipients,
        ...(damage && { damage }),
      });
    const tampered = await send(
      request(randomUUID()),
      [expert.encryption.certificate, applicant.encryption.certificate],
      flipLast,
    );
    const misaddressed = await send(request(randomUUID()), [applicant.encryption.certificate]);
    const rejections = await expertWs.until(async () => {
      const all = await expertWs.call(COMMANDS.listRejections);
      return all.some((r) => r.messageId === misaddressed) && all.some((r) => r.messageId === tampered)
        ? all
        : undefined;
    }, 'both refused at the expert');
    expect(rejections.find((r) => r.messageId === tampered)).toMatchObject({
      reason: 'decrypt-failed',
      type: 'consult.request',
      sender: 'clinic-b',
    });
    expect(rejections.find((r) => r.messageId === misaddressed)).toMatchObject({ reason: 'not-a-recipient' });
    // The sender is told why, through the hub.
    for (const [id, reason] of [
      [tampered, 'decrypt-failed'],
      [misaddressed, 'not-a-recipient'],
    ] as const) {
      const receipt = await clinics['clinic-b'].waitFor(
        (m) => m.correlationId === id && m.properties.rtsReceipt === 'rejected',
        `rejected receipt for ${reason}`,
      );
      expect(receipt.properties).toMatchObject({ rtsReason: reason, rtsSender: 'ws-expert-1' });
    }

    // A damaged report in a case the applicant knows shows in that case as refused, never as a report.
    const live = await compose();
    await expertWs.until(() => caseOf(expertWs, live.caseId), 'the request at the expert');
    const report = await harness.sendAsClinic('clinic-a', {
      properties: {
        rtsType: 'consult.report',
        rtsVersion: V,
        rtsSender: 'clinic-a',
        rtsCase: live.caseId,
        rtsFromPractitioner: 'clinic-a.dr-ahmed',
        rtsToPractitioner: 'clinic-b.dr-berg',
        rtsSequence: 1,
      },
      payload: (messageId, timestamp) =>
        buildConsultReport(
          { messageId, timestamp, sender: 'clinic-a' },
          {
            caseId: live.caseId,
            from: 'clinic-a.dr-ahmed',
            to: 'clinic-b.dr-berg',
            sequence: 1,
            patient,
            conclusion: 'Forged',
          },
        ),
      signer: expert,
      recipients: [applicant.encryption.certificate, expert.encryption.certificate],
      damage: flipLast,
    });
    const summary = await applicantWs.until(async () => {
      const c = await caseOf(applicantWs, live.caseId);
      return c?.attention ? c : undefined;
    }, 'the refused report in its case');
    expect(summary).toMatchObject({
      status: 'requested',
      attention: { kind: 'received-refused', reason: 'decrypt-failed' },
    });
    const view = await applicantWs.call(COMMANDS.openCase, { caseId: live.caseId });
    expect(view.report).toBeUndefined();
    expect(view.messages.find((m) => m.messageId === report)).toMatchObject({
      direction: 'in',
      type: 'consult.report',
      state: 'rejected',
      reason: 'decrypt-failed',
    });
    expect(view.messages.find((m) => m.messageId === report)?.signer).toBeUndefined();

    // Good traffic still flows after the refusals.
    await expertWs.call(COMMANDS.actOnCase, { caseId: live.caseId, action: 'decline', note: 'Outside my field.' });
    await applicantWs.until(
      async () => (await caseOf(applicantWs, live.caseId))?.status === 'declined',
      'the decline after the refusals',
    );
  });

  it('keeps no patient data and no secret in plain files on either workstation', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const files = (root: string): string[] =>
      readdirSync(root).flatMap((name) => {
        const path = join(root, name);
        return statSync(path).isDirectory() ? files(path) : [path];
      });
    const text = (value: string) => ({ what: JSON.stringify(value), bytes: Buffer.from(value, 'utf8') });
    // Patient data and free text of the consults, the reports and their notes, as typed.
    const needles = [
      'Nilsen',
      '12046112345',
      '1961-04-12',
      'Chest pain',
      'Thrombolysis before transfer',
      'Inferior STEMI',
      'Tenecteplase',
      'troponin',
      'Troponin T 180',
      'Outside my field',
    ].map(text);
    needles.push(
      { what: 'the attachment', bytes: Buffer.from('Referral letter') },
      { what: 'the attachment (base64)', bytes: Buffer.from(Buffer.from('Referral letter').toString('base64')) },
    );
    needles.push(text(P12_PASSWORD));
    for (const endpointId of ['ws-expert-1', 'ws-applicant-1']) {
      const vault = harness.coreOptions(endpointId).vault;
      needles.push({
        what: `${endpointId}'s broker password`,
        bytes: Buffer.from(broker.endpoint(endpointId).password),
      });
      // The keychain's own secrets: the store key and the practitioner's private keys (PKCS#8 DER, base64 and PEM).
      const storeKey = await vault.get(STORE_KEY_ACCOUNT);
      expect(storeKey, `${endpointId}'s store key in the keychain`).toBeDefined();
      needles.push(
        { what: `${endpointId}'s store key`, bytes: Buffer.from(storeKey!) },
        { what: `${endpointId}'s store key (raw)`, bytes: Buffer.from(storeKey!, 'base64url') },
      );
      const practitioner = endpointId === 'ws-expert-1' ? expert : applicant;
      for (const use of ['signing', 'encryption'] as const) {
        const pkcs8 = await vault.get(keyAccountFor(practitioner.id, use, practitioner[use].certificate));
        expect(pkcs8, `${endpointId}'s ${use} key in the keychain`).toBeDefined();
        const der = Buffer.from(pkcs8!, 'base64');
        expect(der).toEqual(Buffer.from(await exportPrivateKeyPkcs8(practitioner[use].privateKey)));
        // The secret itself (EC scalar or RSA private exponent), raw and base64url as a JWK holds it, and the PEM
        // line of the key that carries its middle (the same characters in unbroken base64).
        const d = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!;
        const secret = Buffer.from(d, 'base64url');
        const middle = der.indexOf(secret) + secret.length / 2;
        const line = Math.floor((middle * 4) / 3 / 64);
        const pemLine = der.toString('base64').slice(line * 64, line * 64 + 64);
        expect(derToPem(der, PEM_LABELS.privateKey)).toContain(pemLine);
        needles.push(
          { what: `${endpointId}'s ${use} key (DER)`, bytes: secret },
          { what: `${endpointId}'s ${use} key (JWK)`, bytes: Buffer.from(d) },
          { what: `${endpointId}'s ${use} key (PEM/base64)`, bytes: Buffer.from(pemLine) },
        );
      }
    }
    // The whole data directory of each workstation: store and its WAL/journal, settings, logs, audit, anything else.
    const scanned = [join(harness.dir, 'ws-expert-1'), join(harness.dir, 'ws-applicant-1')].flatMap(files);
    for (const name of ['workstation.db', 'workstation.db-wal', 'settings.json']) {
      expect(
        scanned.filter((f) => f.endsWith(name)),
        `${name} on both workstations`,
      ).toHaveLength(2);
    }
    // The outbox's bodies are sealed in segment files beside the store (transport/body-segments.ts): scanned too.
    expect(scanned.filter((f) => f.endsWith('.seg')).length, 'segment files on both workstations').toBeGreaterThan(1);
    for (const file of scanned) {
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(needle.bytes), `${needle.what} in ${file}`).toBe(false);
    }
    // The same search finds what is kept in the clear on purpose: the endpoint id in the settings.
    expect(
      scanned.filter((f) => readFileSync(f).includes('ws-expert-1')).map((f) => f.slice(harness.dir.length)),
    ).toContain('/ws-expert-1/settings.json');
  });

  it('keeps its store across a restart, and asks for a snapshot when it finds a gap in directory versions', async () => {
    await applicantWs.core.stop();
    const lund = await harness.region.practitioner('clinic-a.dr-lund');
    const [practitioner, role] = expertEntry(lund, {
      organizationId: 'clinic-a.nordby',
      endpoints: ['ws-expert-1'],
      family: 'Lund',
      specialty: 'Dermatology',
    });
    await harness.publishDelta('clinic-a', [{ upsert: practitioner! }, { upsert: role! }]);
    await expertWs.until(
      async () => (await expertWs.call(COMMANDS.getDirectoryState)).version === 3,
      'version 3 at the expert',
    );
    // The applicant's copy of version 3 is lost (as if its queue had been purged): its next update leaves a gap.
    await broker.purge('ws-applicant-1');
    await harness.publishDelta('clinic-a', [
      { retire: 'PractitionerRole/clinic-a.dr-lund' },
      { retire: 'Practitioner/clinic-a.dr-lund' },
    ]);
    await expertWs.until(
      async () => (await expertWs.call(COMMANDS.getDirectoryState)).version === 4,
      'version 4 at the expert',
    );

    applicantWs = await startWorkstation('ws-applicant-1');
    const state = await applicantWs.until(async () => {
      const s = await applicantWs.call(COMMANDS.getDirectoryState);
      return s.version === 4 && !s.behind ? s : undefined;
    }, 'the snapshot after the gap');
    expect(state.experts).toBe(2);
    expect(applicantWs.events).toContainEqual({
      event: EVENTS.directorySyncProgress,
      payload: expect.objectContaining({ behind: true }),
    });
    // Everything from before the restart is still there, and still opens.
    const cases = await applicantWs.call(COMMANDS.listCases, {});
    expect(cases.length).toBeGreaterThanOrEqual(3);
    expect(
      (await applicantWs.call(COMMANDS.openCase, { caseId: cases.find((c) => c.status === 'completed')!.caseId }))
        .report?.verified,
    ).toBe(true);
  });
});
