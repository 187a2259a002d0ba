import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BAD_INPUT_CLASSES, type Receiver, type Variant } from './bad-input-classes.ts';
import { startBadInputRegion, until, type BadInputRegion } from './bad-input-region.ts';
import {
  CONNECTOR_API_CLASSES,
  runApiVariant,
  startConnectorApiTarget,
  type ApiVariantOutcome,
  type ConnectorApiTarget,
} from './connector-api-classes.ts';
import { fuzzParsers } from './fuzz-parsers.ts';

/**
 * npm run test:badinput: every bad-input class against the hub and a workstation core on the private broker, with good
 * traffic after each bad message, then the classes of the clinic connector's HTTP API (connector-api-classes.ts: its own
 * offline connector, a good request after each bad one), then the parser fuzzing. Ends with
 *   badinput: classes=N handled=N crashes=N
 *   fuzz: inputs=N crashes=N hangs=N
 * and exits 1 unless every class was handled and nothing crashed or hung. BADINPUT_FUZZ_SEED repeats a fuzz run.
 * With --summary FILE the two lines go to FILE instead, for run-badinput.sh to print after the test environment's own
 * shutdown lines.
 */
/** `crashed`: the good message (or request) sent after the bad one was not processed: the consumer did not survive it. */
interface VariantOutcome extends ApiVariantOutcome {
  readonly receiver: Receiver | 'connector';
}

/** How long a refusal may take to show once the good message behind it was processed (a receipt still on its way). */
const SETTLE_MS = 5_000;

async function runVariant(region: BadInputRegion, receiver: Receiver, variant: Variant): Promise<VariantOutcome> {
  let evidence = 'nothing';
  const outcome = (observed: string, handled: boolean, crashed = false): VariantOutcome => ({
    receiver,
    variant: variant.name,
    expected: variant.expected,
    observed,
    evidence,
    handled,
    crashed,
  });
  let probe;
  try {
    probe = await variant.send(region);
    evidence = probe.evidence;
  } catch (error) {
    return outcome(`could not send: ${(error as Error).message}`, false);
  }
  try {
    await region.good(receiver);
  } catch (error) {
    return outcome(`good traffic stopped after it: ${(error as Error).message}`, false, true);
  }
  // The receiver works in order: by the time the good message behind it was processed, the bad one was refused.
  const observed = await until(() => probe.observe(), 'the refusal', SETTLE_MS).catch(() => 'nothing recorded');
  return outcome(observed, observed === variant.expected);
}

/** One line per class, the variants that were not handled below it; whether the class was handled. */
function reportClass(name: string, outcomes: readonly VariantOutcome[]): boolean {
  const handled = outcomes.length > 0 && outcomes.every((o) => o.handled);
  const receivers = (['hub', 'workstation', 'connector'] as const).flatMap((receiver) => {
    const mine = outcomes.filter((o) => o.receiver === receiver);
    if (mine.length === 0) return [];
    const seen = new Map<string, number>();
    for (const o of mine)
      seen.set(`${o.observed} [${o.evidence}]`, (seen.get(`${o.observed} [${o.evidence}]`) ?? 0) + 1);
    return [`${receiver}: ${[...seen].map(([what, n]) => (n > 1 ? `${n}x ${what}` : what)).join(', ')}`];
  });
  console.log(`${handled ? 'handled' : 'NOT HANDLED'}  ${name} -> ${receivers.join(' | ')}`);
  for (const o of outcomes.filter((x) => !x.handled))
    console.log(`    ${o.receiver} / ${o.variant}: expected ${o.expected}, observed ${o.observed}`);
  return handled;
}

/** The connector's API classes on a connector of their own; a connector that does not start handles none of them. */
async function runConnectorApiClasses(): Promise<{ handled: number; crashes: number }> {
  let handledClasses = 0;
  let crashes = 0;
  let target: ConnectorApiTarget;
  try {
    target = await startConnectorApiTarget();
  } catch (error) {
    for (const apiClass of CONNECTOR_API_CLASSES)
      reportClass(
        apiClass.name,
        apiClass.variants.map((v) => ({
          receiver: 'connector',
          variant: v.name,
          expected: v.expected,
          observed: `the connector did not start: ${(error as Error).message}`,
          evidence: 'nothing',
          handled: false,
          crashed: false,
        })),
      );
    return { handled: 0, crashes: 0 };
  }
  try {
    for (const apiClass of CONNECTOR_API_CLASSES) {
      const outcomes: VariantOutcome[] = [];
      for (const variant of apiClass.variants)
        outcomes.push({ receiver: 'connector', ...(await runApiVariant(target, variant)) });
      if (reportClass(apiClass.name, outcomes)) handledClasses += 1;
      crashes += outcomes.filter((o) => o.crashed).length;
    }
  } finally {
    await target.stop();
  }
  return { handled: handledClasses, crashes };
}

async function main(): Promise<number> {
  const started = Date.now();
  // Failures outside any probe while the classes run (the fuzzer watches its own part).
  const processFailures: string[] = [];
  const onProcessFailure = (error: unknown) => processFailures.push(String(error));
  process.on('unhandledRejection', onProcessFailure);
  process.on('uncaughtException', onProcessFailure);

  const region = await startBadInputRegion();
  let handledClasses = 0;
  let crashes = 0;
  try {
    for (const badClass of BAD_INPUT_CLASSES) {
      const outcomes: VariantOutcome[] = [];
      for (const receiver of ['hub', 'workstation'] as const) {
        for (const variant of badClass[receiver] ?? []) outcomes.push(await runVariant(region, receiver, variant));
      }
      if (reportClass(badClass.name, outcomes)) handledClasses += 1;
      crashes += outcomes.filter((o) => o.crashed).length;
    }
    const api = await runConnectorApiClasses();
    handledClasses += api.handled;
    crashes += api.crashes;
  } finally {
    await region.stop();
    process.off('unhandledRejection', onProcessFailure);
    process.off('uncaughtException', onProcessFailure);
  }
  for (const failure of processFailures) console.log(`process-level failure: ${failure}`);
  crashes += processFailures.length;
  console.log(`bad-input classes done in ${Math.round((Date.now() - started) / 1000)} s`);

  const seed = process.env.BADINPUT_FUZZ_SEED ? Number(process.env.BADINPUT_FUZZ_SEED) : undefined;
  const fuzz = await fuzzParsers({ ...(seed !== undefined && { seed }) });
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
  const classes = BAD_INPUT_CLASSES.length + CONNECTOR_API_CLASSES.length;
  const summary = `badinput: classes=${classes} handled=${handledClasses} crashes=${crashes}\nfuzz: inputs=${fuzz.inputs} crashes=${fuzz.crashes} hangs=${fuzz.hangs}\n`;
  const { values } = parseArgs({ options: { summary: { type: 'string' } } });
  if (values.summary) writeFileSync(values.summary, summary);
  else process.stdout.write(summary);
  return handledClasses === classes && crashes === 0 && fuzz.crashes === 0 && fuzz.hangs === 0 ? 0 : 1;
}

// Open connections and timers of the region must not keep a finished run alive.
process.exit(
  await main().catch((error: unknown) => {
    console.error(`badinput: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }),
);
