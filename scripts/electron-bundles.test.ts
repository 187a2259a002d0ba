import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { protocolExamples } from '../shared/protocol/index.ts';
import { validateFhirResource } from '../shared/protocol/fhir/index.ts';
import { createBaseFhirValidator, loadFhirDefinitions } from '../shared-node/index.ts';
import { electronBundles, FHIR_WORKER_BUNDLE } from './electron-bundles.ts';

/**
 * The base FHIR validation worker as the packaged app runs it: bundled to CommonJS beside main.cjs, where the core is
 * told to find it. Its bundle goes under node_modules/ here, where it finds the packages it leaves outside, as in the app.
 */
describe('the base FHIR validation worker bundle', () => {
  let out: string;

  beforeAll(async () => {
    loadFhirDefinitions();
    out = mkdtempSync(join(process.cwd(), 'node_modules', '.rts-bundle-test-'));
    await build({ ...electronBundles(out).fhirWorker, logLevel: 'silent', sourcemap: false });
  }, 60_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('is where the Electron shell tells the core to look', () => {
    expect(readFileSync('main/electron/main.ts', 'utf8')).toContain(`'main', '${FHIR_WORKER_BUNDLE}'`);
  });

  it('answers what validation in line answers', async () => {
    const errors: Error[] = [];
    const validator = createBaseFhirValidator({
      workerScript: join(out, 'main', FHIR_WORKER_BUNDLE),
      onWorkerError: (error) => errors.push(error),
    });
    const request = protocolExamples({ signing: btoa('s'), encryption: btoa('e') }).find(
      (e) => e.type === 'consult.request',
    )!.payload;
    const invalid = { ...request, unknownElement: true };
    try {
      await vi.waitFor(
        async () => {
          await validator.validate(request);
          expect([errors, validator.counts().onWorker]).toEqual([[], 1]);
        },
        { timeout: 30_000, interval: 50 },
      );
      const issues = await validator.validate(invalid);
      expect(issues).toEqual(validateFhirResource(invalid));
      expect(issues.length).toBeGreaterThan(0);
      expect(validator.counts().onWorker).toBe(2);
    } finally {
      await validator.close();
    }
  });
});
