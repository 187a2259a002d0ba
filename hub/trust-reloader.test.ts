import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl, derToPem, describeCertificate, PEM_LABELS } from '../shared/pki/index.ts';
import { createCertificateCache } from '../shared-node/index.ts';
import { createTestRegion, type TestRegion } from '../testkit/index.ts';
import { createTrustReloader, DISTRIBUTED_SOURCE, newestCrlPerAnchor } from './trust-reloader.ts';

/** The hub's CRLs while it runs (issue #17 item 3): newer ones taken at once, anything else reported and left. */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let dir: string;
let region: TestRegion;
let stranger: TestRegion;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-trust-reloader-'));
  region = await createTestRegion(join(dir, 'region'));
  stranger = await createTestRegion(join(dir, 'stranger'), 'Other Region');
  crlFile = join(dir, 'ca.crl.pem');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let crlFile: string;
const write = (der: Uint8Array) => writeFileSync(crlFile, derToPem(der, PEM_LABELS.crl));

describe('trust reloader', () => {
  it('takes a newer CRL, keeps the one in use against an older, foreign or unreadable file, and says why', async () => {
    const first = await createCrl(region.ca, { crlNumber: 1 });
    write(first);
    const reloader = await createTrustReloader({
      initial: { anchors: [region.ca.certificate], crls: [first] },
      crlFiles: [crlFile],
      warningMs: 72 * HOUR,
    });
    const before = reloader.current();
    expect(await reloader.reload(new Date())).toMatchObject({ taken: [], report: { taken: [], refused: [] } });
    expect(reloader.current()).toBe(before);

    const victim = await region.practitioner('clinic-a.dr-revoked');
    const second = await createCrl(region.ca, {
      crlNumber: 2,
      revoked: [
        { serialNumber: describeCertificate(victim.signing.certificate).serialNumber, revocationDate: new Date() },
      ],
    });
    write(second);
    const taking = await reloader.reload(new Date());
    expect(taking.taken).toEqual([second]);
    expect(taking.report.taken).toMatchObject([
      { file: crlFile, crlNumber: 2, issuer: expect.stringContaining('Test Region Root CA') },
    ]);
    expect(reloader.current()).not.toBe(before);
    expect(reloader.current().crls).toEqual([second]);
    expect(reloader.status(new Date()).crls).toMatchObject([{ crlNumber: 2, revoked: 1, state: 'current' }]);

    const refusedWith = async (detail: RegExp) => {
      const { taken, report } = await reloader.reload(new Date());
      expect(taken).toEqual([]);
      expect(report.refused).toMatchObject([{ file: crlFile, detail: expect.stringMatching(detail) }]);
      expect(reloader.current().crls).toEqual([second]);
    };
    write(first);
    await refusedWith(/^older than the CRL in use \(number 1, issued .*; in use: number 2, issued .*\)$/);
    // A later thisUpdate does not make up for a lower number.
    write(await createCrl(region.ca, { crlNumber: 1, thisUpdate: new Date(Date.now() + 60_000) }));
    await refusedWith(/^older than the CRL in use/);
    write(await createCrl(stranger.ca, { crlNumber: 9 }));
    await refusedWith(/^a CRL of .*Other Region Root CA.* that none of this hub's trust anchors signed$/);
    writeFileSync(crlFile, 'not a CRL at all');
    await refusedWith(/^unreadable: no PEM CRL in it$/);
    rmSync(crlFile);
    await refusedWith(/^unreadable: ENOENT/);

    // The same number, issued later: taken (a CA that re-issues without counting).
    const reissued = await createCrl(region.ca, { crlNumber: 2, thisUpdate: new Date(Date.now() + 1000), revoked: [] });
    write(reissued);
    expect((await reloader.reload(new Date())).taken).toEqual([reissued]);
  });

  it('weighs the CRLs the region already distributed: a newer one is taken over an older file, which is reported', async () => {
    const fileCrl = await createCrl(region.ca, { crlNumber: 7 });
    const distributed = await createCrl(region.ca, { crlNumber: 8 });
    write(fileCrl);
    const reloader = await createTrustReloader({
      initial: { anchors: [region.ca.certificate], crls: [fileCrl] },
      crlFiles: [crlFile],
      warningMs: 72 * HOUR,
    });
    // An older distributed CRL, or one of another CA, is weighed and silently left: it is the region's record, not a file.
    const quiet = await reloader.reload(new Date(), [
      await createCrl(region.ca, { crlNumber: 6 }),
      await createCrl(stranger.ca, { crlNumber: 99 }),
    ]);
    expect(quiet).toMatchObject({ taken: [], report: { taken: [], refused: [] } });

    const taking = await reloader.reload(new Date(), [distributed]);
    expect(taking.taken).toEqual([distributed]);
    expect(taking.report.taken).toMatchObject([{ file: DISTRIBUTED_SOURCE, crlNumber: 8 }]);
    expect(taking.report.refused).toEqual([
      {
        file: crlFile,
        detail: expect.stringMatching(
          /^older than the CRL in use \(number 7, .*; in use: number 8, issued .*, already distributed in the region\)$/,
        ),
      },
    ]);
    expect(reloader.current().crls).toEqual([distributed]);
    // Without the database's word (away for a while) the CRL in use stays: the file never takes it back.
    expect((await reloader.reload(new Date())).taken).toEqual([]);
    expect(reloader.current().crls).toEqual([distributed]);
    // A newer file moves it forward again.
    const newer = await createCrl(region.ca, { crlNumber: 9 });
    write(newer);
    expect((await reloader.reload(new Date(), [distributed])).report).toMatchObject({
      taken: [{ file: crlFile, crlNumber: 9 }],
      refused: [],
    });
  });

  it('picks the newest CRL of each anchor among several, leaving out those no anchor signed', async () => {
    const [one, two, foreign] = [
      await createCrl(region.ca, { crlNumber: 1 }),
      await createCrl(region.ca, { crlNumber: 2 }),
      await createCrl(stranger.ca, { crlNumber: 5 }),
    ];
    expect(await newestCrlPerAnchor([region.ca.certificate], [one, foreign, two])).toEqual([two]);
    expect(await newestCrlPerAnchor([region.ca.certificate], [two, one])).toEqual([two]);
    expect(await newestCrlPerAnchor([region.ca.certificate, stranger.ca.certificate], [one, foreign])).toEqual([
      one,
      foreign,
    ]);
    expect(await newestCrlPerAnchor([region.ca.certificate], [foreign])).toEqual([]);
  });

  it('reports a CRL nearing its nextUpdate as expiring and one past it as stale, once per change', async () => {
    const soon = await createCrl(region.ca, { crlNumber: 5, validityDays: 2 });
    write(soon);
    const reloader = await createTrustReloader({
      initial: { anchors: [region.ca.certificate], crls: [soon] },
      crlFiles: [crlFile],
      warningMs: 72 * HOUR,
    });
    const now = new Date();
    expect(reloader.status(now)).toMatchObject({ state: 'expiring', crls: [{ crlNumber: 5, state: 'expiring' }] });
    expect(reloader.stateChanges(now).map((c) => c.state)).toEqual(['expiring']);
    expect(reloader.stateChanges(now)).toEqual([]);
    // Relied on until nextUpdate plus the 5 minutes of clock skew; stale after.
    expect(reloader.status(new Date(now.getTime() + 2 * DAY + 60_000)).state).toBe('expiring');
    const later = new Date(now.getTime() + 2 * DAY + 10 * 60_000);
    expect(reloader.status(later).state).toBe('stale');
    expect(reloader.stateChanges(later).map((c) => c.state)).toEqual(['stale']);

    write(await createCrl(region.ca, { crlNumber: 6, validityDays: 30 }));
    await reloader.reload(now);
    expect(reloader.status(now).state).toBe('current');
    expect(reloader.stateChanges(now).map((c) => c.state)).toEqual(['current']);
    const narrow = await createTrustReloader({
      initial: { anchors: [region.ca.certificate], crls: [soon] },
      crlFiles: [crlFile],
      warningMs: HOUR,
    });
    expect(narrow.status(now).state).toBe('current');
  });

  it('forgets cached certificate acceptances when it is given a newer CRL', async () => {
    const practitioner = await region.practitioner('clinic-a.dr-cached');
    const crl = await createCrl(region.ca, { crlNumber: 1 });
    const cache = createCertificateCache({ anchors: [region.ca.certificate], crls: [crl] });
    expect(await cache.check(practitioner.signing.certificate, 'signing', new Date())).toBeUndefined();
    const revoking = await createCrl(region.ca, {
      crlNumber: 2,
      revoked: [
        {
          serialNumber: describeCertificate(practitioner.signing.certificate).serialNumber,
          revocationDate: new Date(),
        },
      ],
    });
    // Without a new trust the cached acceptance stands (that is what the cache is for) …
    expect(await cache.check(practitioner.signing.certificate, 'signing', new Date())).toBeUndefined();
    // … with it, the next check is made against the new CRL.
    cache.useTrust({ anchors: [region.ca.certificate], crls: [revoking] });
    expect(await cache.check(practitioner.signing.certificate, 'signing', new Date())).toMatchObject({
      code: 'cms-certificate-revoked',
    });
  });
});
