import { mkdirSync } from 'node:fs';
import { startRegionHarness, type RegionHarness } from '../../integration/testing/region-harness.ts';
import { test } from './workstation-fixture.ts';

/** Where every spec writes the screenshots of its screens (kept as test artifacts). */
export const SCREENSHOTS = 'test-results/screenshots';
mkdirSync(SCREENSHOTS, { recursive: true });

/**
 * One region (queues purged, a hub, two clinics with their practitioners) for all tests of the calling spec file,
 * started before its first test and stopped after its last. Returns a stand-in that reads the running harness.
 */
export function regionForThisFile(): RegionHarness {
  let harness: RegionHarness | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    harness = await startRegionHarness();
  });
  test.afterAll(async () => {
    await harness?.stop();
  });
  return new Proxy({} as RegionHarness, {
    get: (_, key: keyof RegionHarness): unknown => {
      if (!harness) throw new Error('the region starts in beforeAll: use it inside tests');
      // The harness's methods are closures (no `this`), so they work when taken from the stand-in.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      return harness[key];
    },
  });
}
