/**
 * Adds up vitest and Playwright JSON reports into one closing line, `N passed, N failed, N skipped`. A missing report
 * counts as a failure: a suite that did not run must not look green.
 */
import { existsSync, readFileSync } from 'node:fs';

interface Counts { passed: number; failed: number; skipped: number }

function countsOf(file: string): Counts {
  if (!existsSync(file)) {
    console.log(`${file}: missing (suite did not run)`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (typeof report.numTotalTests === 'number') {
    const r = report as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
    return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
  }
  const stats = (report as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } }).stats;
  return { passed: stats.expected, failed: stats.unexpected + stats.flaky, skipped: stats.skipped };
}

const total: Counts = { passed: 0, failed: 0, skipped: 0 };
for (const file of process.argv.slice(2)) {
  const c = countsOf(file);
  console.log(`${file}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
}
if (total.passed + total.failed === 0) total.failed = 1;
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
