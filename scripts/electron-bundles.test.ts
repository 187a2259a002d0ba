import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verify, type TrustConfig } from '../shared/cms/index.ts';
import { decodeMessage } from '../shared/protocol/index.ts';
import { createPayloadValidationPool } from '../shared-node/index.ts';
import { createTestRegion, hospital, regionTrust, sealedDeltaPublish, type TestRegion } from '../testkit/index.ts';
import { electronBundles, VALIDATION_WORKER_BUNDLE } from './electron-bundles.ts';

/**
 * The payload validation worker as the packaged app runs it: bundled to CommonJS beside main.cjs, where the core is told
 * to find it. Its bundle goes under node_modules/ here, where it finds the packages it leaves outside, as in the app.
 */
describe('the validation worker bundle', () => {
  let out: string;
  let pki: string;
  let region: TestRegion;
  let trust: TrustConfig;

  beforeAll(async () => {
    out = mkdtempSync(join(process.cwd(), 'node_modules', '.rts-bundle-test-'));
    pki = mkdtempSync(join(tmpdir(), 'rts-bundle-pki-'));
    region = await createTestRegion(pki);
    trust = regionTrust(region);
    await build({ ...electronBundles(out).validationWorker, logLevel: 'silent', sourcemap: false });
  }, 60_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(pki, { recursive: true, force: true });
  });

  it('is where the Electron shell tells the core to look', () => {
    expect(readFileSync('main/electron/main.ts', 'utf8')).toContain(`'main', '${VALIDATION_WORKER_BUNDLE}'`);
  });

  it('gives the pool its verdicts', async () => {
    const errors: Error[] = [];
    const pool = createPayloadValidationPool(trust, {
      workers: 1,
      idleMs: 1_000,
      workerScript: join(out, 'main', VALIDATION_WORKER_BUNDLE),
      onWorkerError: (error) => errors.push(error),
    });
    try {
      const fields = await sealedDeltaPublish({
        sender: 'clinic-a',
        signer: await region.clinic('clinic-a'),
        changes: [{ upsert: hospital('clinic-a.h1', 'Riverside Hospital') }],
      });
      pool.prefetch(fields);
      await vi.waitFor(() => expect([errors, pool.counts().ready]).toEqual([[], 1]), { timeout: 30_000, interval: 50 });
      const decoded = decodeMessage(fields);
      if (!decoded.ok) throw new Error(decoded.error.detail);
      const opened = await verify(fields.body, trust);
      const result = await pool.validate(fields.body, opened.content, decoded.value.metadata);
      expect(result.ok).toBe(true);
      expect(pool.counts()).toMatchObject({ fromWorkers: 1, inline: 0 });
    } finally {
      await pool.close();
    }
  });
});
