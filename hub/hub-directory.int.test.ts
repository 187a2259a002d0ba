import { randomBytes, randomUUID } from 'node:crypto';
import rhea, { type Message } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../shared/cms/index.ts';
import { buildDirectoryPublish, type DirectoryResource } from '../shared/protocol/fhir/index.ts';
import { CONTENT_TYPES, sealMessage, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import * as store from './store/hub-store.ts';
import {
  directoryContent,
  hubEngines,
  isType,
  receiptFor,
  startHubSuite,
  expertEntry,
  hospital,
  type HubSuite,
} from '../testkit/index.ts';

/**
 * The hub on the real broker, on each database engine: clinic systems registering, the directory they publish (full
 * lists in batches, deltas, refusals of what a clinic may not publish), snapshots and their interval, and senders or
 * message ids that are not what they claim. Consult routing and workstations: hub-routing.int.test.ts.
 */
const V = PROTOCOL_VERSION;

describe.each(hubEngines())('hub directory on the real broker, $kind database', ({ kind }) => {
  let suite: HubSuite;

  beforeAll(async () => {
    suite = await startHubSuite(kind);
  }, 90_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('registers two clinics: downlink provisioned, registration accepted, an empty snapshot at version 0', async () => {
    const a = await suite.register('clinic-a', 'clinic-a');
    const b = await suite.register('clinic-b', 'clinic-b');
    for (const [id, messageId] of [
      ['clinic-a', a],
      ['clinic-b', b],
    ] as const) {
      const endpoint = suite.endpoints[id]!;
      await endpoint.waitFor(receiptFor(messageId, 'processed'), 'registration receipt');
      const notice = await endpoint.waitFor(isType('hub.notice'), 'registration notice');
      expect(notice.properties.rtsNotice).toBe('registration-accepted');
      expect(notice.userId).toBe(suite.broker.hub.name);
      const snapshot = await endpoint.waitFor(isType('directory.snapshot'), 'snapshot');
      expect(snapshot.properties).toMatchObject({
        rtsDirectoryVersion: 0,
        rtsBatchIndex: 1,
        rtsBatchCount: 1,
        rtsToEndpoint: id,
      });
      expect(directoryContent(await suite.openFromHub(snapshot))).toEqual([]);
    }
    expect((await store.listEndpoints(suite.hub.sql)).map((e) => `${e.id}:${e.kind}:${e.operator}`)).toEqual([
      'clinic-a:clinic-system:clinic-a',
      'clinic-b:clinic-system:clinic-b',
    ]);
  });

  it('applies each batch of a full publish as it arrives, and fans each out as its own version signed by the hub', async () => {
    const resources = suite.clinicAList();
    const [first, second] = await suite.publishFull('clinic-a', resources, 2);
    await suite.endpoints['clinic-a']!.waitFor(receiptFor(first!, 'processed'), 'first batch receipt');
    await suite.endpoints['clinic-a']!.waitFor(receiptFor(second!, 'processed'), 'second batch receipt');
    const half = Math.ceil(resources.length / 2);
    const urls = (part: typeof resources) => part.map((r) => `${r.resourceType}/${r.id}`).sort();
    for (const id of ['clinic-a', 'clinic-b']) {
      for (const [version, part] of [
        [1, resources.slice(0, half)],
        [2, resources.slice(half)],
      ] as const) {
        const update = await suite.endpoints[id]!.waitFor(
          (m) => m.properties.rtsType === 'directory.update' && m.properties.rtsDirectoryVersion === version,
          `directory update ${version}`,
        );
        expect(update.properties).toMatchObject({ rtsDirectoryBaseVersion: version - 1, rtsSender: 'hub' });
        expect(directoryContent(await suite.openFromHub(update))).toEqual(urls([...part]));
      }
    }
    expect((await store.directoryStats(suite.hub.sql)).live).toEqual({
      Organization: 1,
      Practitioner: 3,
      PractitionerRole: 3,
    });
  });

  it('refuses experts of another clinic, with a rejected receipt and a dead letter, and changes nothing', async () => {
    const [practitioner, role] = expertEntry(suite.experts['clinic-b.dr-chen']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a'],
    });
    const forged = await suite.publishDelta('clinic-a', [{ upsert: practitioner! }, { upsert: role! }]);
    const receipt = await suite.endpoints['clinic-a']!.waitFor(receiptFor(forged, 'rejected'), 'rejected receipt');
    expect(receipt.properties.rtsReason).toBe('not-authorized');
    const letters = await store.listDeadLetters(suite.hub.sql, { reason: 'not-authorized' });
    expect(letters.map((l) => [l.messageId, l.sender, l.state])).toEqual([[forged, 'clinic-a', 'held']]);
    expect(await store.directoryVersion(suite.hub.sql)).toBe(2);

    // Signed with another clinic's system certificate: the signature does not name the sender.
    const misSigned = await suite.publishDelta(
      'clinic-b',
      [{ retire: 'PractitionerRole/clinic-b.dr-x' }],
      suite.clinics['clinic-a'],
    );
    expect(
      (await suite.endpoints['clinic-b']!.waitFor(receiptFor(misSigned, 'rejected'), 'rejected receipt')).properties
        .rtsReason,
    ).toBe('signer-mismatch');
  });

  it("refuses an entry whose certificates name someone else, or whose role reaches into another clinic's namespace", async () => {
    const refusedWith = async (clinic: string, messageId: string, reason: string, detail: RegExp) => {
      const receipt = await suite.endpoints[clinic]!.waitFor(receiptFor(messageId, 'rejected'), 'rejected receipt');
      expect(receipt.properties.rtsReason).toBe(reason);
      const [letter] = (await store.listDeadLetters(suite.hub.sql, { reason })).filter(
        (l) => l.messageId === messageId,
      );
      expect(letter?.detail).toMatch(detail);
    };
    // The impostor: clinic-b lists "its own" dr-ahmed with the real expert's signing certificate and a key it holds.
    const impostor = await suite.region.practitioner('clinic-b.dr-ahmed');
    const [practitioner, role] = expertEntry(
      { ...impostor, signing: suite.experts['clinic-a.dr-ahmed']!.signing },
      { organizationId: 'clinic-b.hillview', endpoints: ['clinic-b'] },
    );
    const copied = await suite.publishDelta('clinic-b', [
      { upsert: hospital('clinic-b.hillview', 'Hillview') },
      { upsert: practitioner! },
      { upsert: role! },
    ]);
    await refusedWith(
      'clinic-b',
      copied,
      'not-authorized',
      /signing certificate is issued to "clinic-a\.dr-ahmed", not to the directory id clinic-b\.dr-ahmed/,
    );

    // An expert given another practitioner's (valid, CA-issued) encryption certificate.
    const [swapped] = expertEntry(
      { ...suite.experts['clinic-a.dr-ahmed']!, encryption: suite.experts['clinic-a.dr-berg']!.encryption },
      { organizationId: 'clinic-a.riverside', endpoints: ['ws-expert-1'] },
    );
    const swap = await suite.publishDelta('clinic-a', [{ upsert: swapped! }]);
    await refusedWith('clinic-a', swap, 'not-authorized', /encryption certificate is issued to "clinic-a\.dr-berg"/);

    // A role under another clinic's hospital, and a role that names another clinic's practitioner.
    const [chen, chenRole] = expertEntry(suite.experts['clinic-b.dr-chen']!, {
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-b'],
    });
    const underForeign = await suite.publishDelta('clinic-b', [{ upsert: chen! }, { upsert: chenRole! }]);
    await refusedWith(
      'clinic-b',
      underForeign,
      'not-authorized',
      /refers to Organization\/clinic-a\.riverside, which clinic-b did not publish/,
    );
    const [, ownRole] = expertEntry(suite.experts['clinic-b.dr-chen']!, {
      organizationId: 'clinic-b.hillview',
      endpoints: ['clinic-b'],
    });
    const pointing = await suite.publishDelta('clinic-b', [
      { upsert: { ...ownRole!, practitioner: { reference: 'Practitioner/clinic-a.dr-ahmed' } } as DirectoryResource },
    ]);
    await refusedWith('clinic-b', pointing, 'not-authorized', /must refer to Practitioner\/clinic-b\.dr-chen/);
    expect(await store.directoryVersion(suite.hub.sql)).toBe(2);
  });

  it('refuses a sender that is not the broker-verified user, and keeps serving the messages behind', async () => {
    const messageId = randomUUID();
    const outcome = await suite.endpoints['clinic-b']!.sendRaw({
      message_id: messageId,
      user_id: Buffer.from('clinic-b'),
      creation_time: new Date(),
      durable: true,
      content_type: CONTENT_TYPES.signed,
      application_properties: { rtsType: 'directory.snapshot-request', rtsVersion: V, rtsSender: 'clinic-a' },
      body: rhea.message.data_section(randomBytes(64)),
    } as unknown as Message);
    expect(outcome).toBe('accepted');
    const receipt = await suite.endpoints['clinic-b']!.waitFor(
      receiptFor(messageId, 'rejected'),
      'forged-sender receipt',
    );
    expect(receipt.properties.rtsReason).toBe('forged-sender');
    expect(suite.endpoints['clinic-a']!.received.some((m) => m.correlationId === messageId)).toBe(false);
  });

  it('gives a clinic joining later the current snapshot, then the same deltas as everyone', async () => {
    const delta = await suite.publishDelta('clinic-b', suite.clinicBDelta());
    await suite.endpoints['clinic-b']!.waitFor(receiptFor(delta, 'processed'), 'delta receipt');
    await suite.endpoints['clinic-a']!.waitFor((m) => m.properties.rtsDirectoryVersion === 3, 'update to version 3');

    const c = await suite.joinClinicC();
    const snapshot = await c.waitFor(isType('directory.snapshot'), 'snapshot');
    expect(snapshot.properties.rtsDirectoryVersion).toBe(3);
    expect(directoryContent(await suite.openFromHub(snapshot))).toEqual(
      [
        'Organization/clinic-a.riverside',
        'Organization/clinic-b.hillview',
        ...['clinic-a.dr-ahmed', 'clinic-a.dr-berg', 'clinic-a.dr-lund', 'clinic-b.dr-chen'].flatMap((id) => [
          `Practitioner/${id}`,
          `PractitionerRole/${id}`,
        ]),
      ].sort(),
    );

    // clinic-a's next full list drops dr-lund: everyone, the newcomer included, gets version 4 retiring him.
    await suite.publishFull('clinic-a', suite.clinicAList({ withLund: false }), 1);
    for (const endpoint of [suite.endpoints['clinic-a']!, suite.endpoints['clinic-b']!, c]) {
      const update = await endpoint.waitFor((m) => m.properties.rtsDirectoryVersion === 4, 'update to version 4');
      expect(update.properties.rtsDirectoryBaseVersion).toBe(3);
      expect(directoryContent(await suite.openFromHub(update))).toEqual([
        '-Practitioner/clinic-a.dr-lund',
        '-PractitionerRole/clinic-a.dr-lund',
      ]);
    }
  });

  it('answers a flood of snapshot requests with one snapshot now and one when the interval is over, and an endpoint up to date with a notice', async () => {
    const b = suite.endpoints['clinic-b']!;
    const batches = () => new Set(b.received.filter(isType('directory.snapshot')).map((m) => m.properties.rtsBatchId));
    const before = batches().size;
    const snapshotsBefore = b.received.filter(isType('directory.snapshot')).length;
    const current = await store.directoryVersion(suite.hub.sql);
    const flood = await Promise.all(
      Array.from({ length: 8 }, () => suite.requestSnapshot('clinic-b', suite.clinics['clinic-b']!, current - 1)),
    );
    for (const id of flood) await b.waitFor(receiptFor(id, 'processed'), 'snapshot request receipt');
    await b.waitForCount(isType('directory.snapshot'), snapshotsBefore + 2, 'two snapshots');
    await expect
      .poll(
        async () =>
          (
            await suite.hub.sql.query<{ pending: boolean }>(
              "select pending from snapshot_state where endpoint = 'clinic-b'",
            )
          )[0]?.pending,
      )
      .toBe(false);
    expect(batches().size).toBe(before + 2);

    const sentAt = async () =>
      (
        await suite.hub.sql.query<{ sentAt: Date }>(
          'select sent_at as "sentAt" from snapshot_state where endpoint = $1',
          ['clinic-b'],
        )
      )[0]!.sentAt;
    const lastSent = await sentAt();
    const upToDate = await suite.requestSnapshot('clinic-b', suite.clinics['clinic-b']!, current);
    await b.waitFor(receiptFor(upToDate, 'processed'), 'snapshot request receipt');
    const notice = await b.waitFor((m) => m.properties.rtsNotice === 'directory-up-to-date', 'up-to-date notice');
    expect(notice.properties.rtsToEndpoint).toBe('clinic-b');
    expect(await sentAt()).toEqual(lastSent);
    expect(batches().size).toBe(before + 2);

    // After a directory change a request is served at once, in its own transaction: the endpoint may have lost an update.
    const change = await suite.publishDelta('clinic-b', [{ upsert: hospital('clinic-b.annex', 'Hillview Annex') }]);
    await b.waitFor(receiptFor(change, 'processed'), 'delta receipt');
    const afterChange = await suite.requestSnapshot('clinic-b', suite.clinics['clinic-b']!, current);
    await b.waitFor(receiptFor(afterChange, 'processed'), 'snapshot request receipt');
    expect(
      (await suite.hub.sql.query('select pending, version from snapshot_state where endpoint = $1', ['clinic-b']))[0],
    ).toEqual({ pending: false, version: current + 1 });
  });

  it('refuses a registration of megabytes before parsing it', async () => {
    const message = suite.rawFrom('clinic-b', { rtsType: 'endpoint.register' }, randomBytes(1024 * 1024));
    await suite.endpoints['clinic-b']!.sendRaw(message);
    const answer = await suite.endpoints['clinic-b']!.waitFor(
      receiptFor(String(message.message_id), 'rejected'),
      'rejected receipt',
    );
    expect(answer.properties.rtsReason).toBe('too-large');
    expect((await suite.deadLetterOf(String(message.message_id)))?.detail).toBe(
      'body: 1048576 bytes, limit 65536 for endpoint.register',
    );
  });

  it('holds nothing of refused publishes it validated ahead once they are done', async () => {
    // Signed with another clinic's certificate: refused on the signer, before the payload verdict is asked for.
    const content = new TextEncoder().encode(JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const message = suite.rawFrom(
        'clinic-a',
        {
          rtsType: 'directory.publish',
          rtsDirectoryMode: 'delta',
          rtsBatchId: randomUUID(),
          rtsBatchIndex: 1,
          rtsBatchCount: 1,
        },
        await sign(content, suite.clinics['clinic-b']!),
      );
      ids.push(String(message.message_id));
      await suite.endpoints['clinic-a']!.sendRaw(message);
    }
    for (const id of ids) await expect.poll(() => suite.deadLetterOf(id)).toMatchObject({ reason: 'signer-mismatch' });
    await expect.poll(() => suite.hub.payloadValidation.held()).toEqual({ entries: 0, bytes: 0 });
  });

  it("applies a clinic's publish with its own payload when another clinic sent one under its message id first", async () => {
    const messageId = randomUUID();
    const seal = (sender: string, hospitalId: string, name: string) => {
      const creationTime = new Date();
      return sealMessage({
        messageId,
        creationTime,
        userId: 'clinic-a',
        signer: suite.clinics[sender]!,
        properties: {
          rtsType: 'directory.publish',
          rtsVersion: V,
          rtsSender: 'clinic-a',
          rtsDirectoryMode: 'delta',
          rtsBatchId: randomUUID(),
          rtsBatchIndex: 1,
          rtsBatchCount: 1,
        },
        payload: buildDirectoryPublish(
          { messageId, timestamp: creationTime, sender: 'clinic-a' },
          { delta: [{ upsert: hospital(hospitalId, name) }] },
        ),
      });
    };
    // clinic-b claims to be clinic-a (refused as forged-sender), carrying an entry in clinic-a's namespace.
    const forged = await seal('clinic-b', 'clinic-a.impostor-hq', 'Impostor HQ');
    await suite.endpoints['clinic-b']!.sendRaw({
      ...forged,
      user_id: Buffer.from('clinic-b'),
      body: rhea.message.data_section(Buffer.from(forged.body)),
    } as unknown as Message);
    await expect.poll(() => suite.deadLetterOf(messageId)).toMatchObject({ reason: 'forged-sender' });

    const genuine = await seal('clinic-a', 'clinic-a.genuine-hq', 'Genuine HQ');
    await suite.endpoints['clinic-a']!.sendRaw({
      ...genuine,
      body: rhea.message.data_section(Buffer.from(genuine.body)),
    } as unknown as Message);
    await suite.endpoints['clinic-a']!.waitFor(receiptFor(messageId, 'processed'), 'the genuine publish processed');
    const [genuineEntry, impostorEntry] = await store.resourcesByUrl(suite.hub.sql, [
      'Organization/clinic-a.genuine-hq',
      'Organization/clinic-a.impostor-hq',
    ]);
    expect(genuineEntry).toContain('Genuine HQ');
    expect(impostorEntry).toBeUndefined();
  });
});
