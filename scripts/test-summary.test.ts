import { describe, expect, it } from 'vitest';
import { countsOfReport, summarise } from './test-summary.ts';

const vitest = (testResults: unknown[], counts: Partial<Record<string, number>> = {}) => ({
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  ...counts,
  testResults,
});

describe('test summary', () => {
  it('counts a file whose hook failed as a failure, though vitest reports its test as skipped', () => {
    const counts = countsOfReport(
      vitest(
        [
          {
            name: `${process.cwd()}/hub/hub-failover.int.test.ts`,
            status: 'failed',
            assertionResults: [{ fullName: 'a b', status: 'skipped' }],
          },
          {
            name: `${process.cwd()}/hub/hub.int.test.ts`,
            status: 'passed',
            assertionResults: [{ fullName: 'c', status: 'passed' }],
          },
        ],
        { numPassedTests: 1, numPendingTests: 1 },
      ),
    );
    expect(counts).toMatchObject({ passed: 1, failed: 1, skipped: 1 });
    expect(counts.failures).toEqual([
      'hub/hub-failover.int.test.ts: failed outside its tests (a hook or the import); its tests count as skipped',
    ]);
  });

  it('names failed tests and Playwright errors outside the tests', () => {
    expect(
      countsOfReport(
        vitest([{ name: 'a.test.ts', status: 'failed', assertionResults: [{ fullName: 'x y', status: 'failed' }] }], {
          numFailedTests: 1,
        }),
      ).failures,
    ).toEqual(['a.test.ts > x y']);
    const playwright = countsOfReport({
      stats: { expected: 2, unexpected: 1, flaky: 0, skipped: 1 },
      suites: [
        {
          title: 'f.spec.ts',
          suites: [
            { title: 'inner', specs: [{ title: 'opens', file: 'f.spec.ts', tests: [{ status: 'unexpected' }] }] },
          ],
        },
      ],
      errors: [{ message: 'Error: globalTeardown threw\n at …' }],
    });
    expect(playwright).toMatchObject({ passed: 2, failed: 2, skipped: 1 });
    expect(playwright.failures).toEqual(['f.spec.ts > opens', 'error outside the tests: Error: globalTeardown threw']);
  });

  it('prints failures first, then one line per report and the total; nothing run is a failure', () => {
    const lines = summarise([{ file: 'u.json', counts: { passed: 3, failed: 1, skipped: 0, failures: ['u > t'] } }]);
    expect(lines).toEqual(['FAILED: u > t', 'u.json: 3 passed, 1 failed, 0 skipped', '3 passed, 1 failed, 0 skipped']);
    expect(summarise([{ file: 'e.json', counts: { passed: 0, failed: 0, skipped: 0, failures: [] } }]).at(-1)).toBe(
      '0 passed, 1 failed, 0 skipped',
    );
    expect(
      summarise(
        [
          {
            file: 'm.json',
            counts: { passed: 0, failed: 0, skipped: 0, failures: Array.from({ length: 3 }, (_, i) => `f${i}`) },
          },
        ],
        2,
      ).slice(0, 3),
    ).toEqual(['FAILED: f0', 'FAILED: f1', '… and 1 more']);
  });
});
