/**
 * Adds up vitest and Playwright JSON reports into one closing line, `N passed, N failed, N skipped`, and names what
 * failed. A missing report counts as a failure: a suite that did not run must not look green. A file whose hook or
 * import failed counts as a failure too: vitest reports its tests as skipped, not failed (CI on 70d9aee failed with
 * "0 failed, 1 skipped" and nothing in the log's tail said which file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { name: string; status: string; assertionResults?: { fullName: string; status: string }[] }[];
}
interface PlaywrightSpec {
  title: string;
  file?: string;
  tests?: { status?: string }[];
}
interface PlaywrightSuite {
  title: string;
  specs?: PlaywrightSpec[];
  suites?: PlaywrightSuite[];
}
interface PlaywrightReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  suites?: PlaywrightSuite[];
  errors?: { message?: string }[];
}

/** A report's absolute file name relative to the checkout it ran in (the current directory). */
function relative(file: string, root = `${process.cwd()}/`): string {
  return file.startsWith(root) ? file.slice(root.length) : file;
}

export function countsOfReport(report: unknown): Counts {
  if (typeof (report as VitestReport).numPassedTests === 'number') {
    const r = report as VitestReport;
    const failures: string[] = [];
    let brokenFiles = 0;
    for (const file of r.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
      for (const t of failedTests) failures.push(`${relative(file.name)} > ${t.fullName}`);
      if (file.status === 'failed' && failedTests.length === 0) {
        brokenFiles += 1;
        failures.push(
          `${relative(file.name)}: failed outside its tests (a hook or the import); its tests count as skipped`,
        );
      }
    }
    return {
      passed: r.numPassedTests,
      failed: r.numFailedTests + brokenFiles,
      skipped: r.numPendingTests + r.numTodoTests,
      failures,
    };
  }
  const r = report as PlaywrightReport;
  const failures: string[] = [];
  const walk = (suite: PlaywrightSuite): void => {
    for (const spec of suite.specs ?? []) {
      if ((spec.tests ?? []).some((t) => t.status === 'unexpected' || t.status === 'flaky'))
        failures.push(`${spec.file ?? suite.title} > ${spec.title}`);
    }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of r.suites ?? []) walk(suite);
  for (const error of r.errors ?? [])
    failures.push(`error outside the tests: ${(error.message ?? '').split('\n')[0]!.slice(0, 200)}`);
  return {
    passed: r.stats.expected,
    failed: r.stats.unexpected + r.stats.flaky + (r.errors?.length ?? 0),
    skipped: r.stats.skipped,
    failures,
  };
}

function countsOfFile(file: string): Counts {
  if (!existsSync(file))
    return { passed: 0, failed: 1, skipped: 0, failures: [`${file}: missing (suite did not run)`] };
  return countsOfReport(JSON.parse(readFileSync(file, 'utf8')));
}

/** The closing lines: what failed (at most `maxFailures` names), one line per report, and the total. */
export function summarise(reports: { file: string; counts: Counts }[], maxFailures = 12): string[] {
  const total = { passed: 0, failed: 0, skipped: 0 };
  const failures = reports.flatMap((r) => r.counts.failures);
  const lines = failures.slice(0, maxFailures).map((f) => `FAILED: ${f}`);
  if (failures.length > maxFailures) lines.push(`… and ${failures.length - maxFailures} more`);
  for (const { file, counts } of reports) {
    lines.push(`${file}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  if (total.passed + total.failed === 0) total.failed = 1;
  lines.push(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of summarise(process.argv.slice(2).map((file) => ({ file, counts: countsOfFile(file) }))))
    console.log(line);
}
