import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { COMMANDS } from '../shared/api/index.ts';
import type { DemoAccessMessage } from '../main/node/index.ts';
import { call, startDemoRegion, startDemoWorkstation, type DemoRegion } from './demo-region.ts';
import { until } from '../testkit/index.ts';

/**
 * npm run demo -- --headless [--check] [--data-dir <dir>] [--applicant-every <seconds>] [--verbose]
 *
 * Starts the embedded demo region on this machine (no server needed) and keeps it running until SIGINT/SIGTERM.
 * With --check it also sets up the user's workstation (ws-demo, on a memory vault), sends one consult to the
 * simulated expert, waits for the verified report, prints `demo-check: ok` and exits 0 (1 with the reason otherwise).
 * With --serve-app (forked by the desktop app, main/node/demo/demo-region-process.ts) it hands the access of the user's
 * workstation to the parent on the IPC channel, and stops when the parent goes.
 * Prints ports and ids, the region's admin state directory (`rts region` format) and the command that enrols a new
 * clinic system into the running region; never secrets or patient data.
 */
const CHECK_TIMEOUT_MS = 120_000;

const USAGE = `usage: npm run demo -- --headless [--check] [--data-dir DIR] [--applicant-every SECONDS] [--verbose]
  --headless             run the demo region (broker, hub, three clinics, two simulated doctors) until Ctrl-C
  --check                also send one consult to the simulated expert, wait for her signed report, print
                         'demo-check: ok' and exit 0 (1 with the reason)
  --data-dir DIR         keep the region's state in DIR (default: a temporary directory, removed at the end);
                         DIR/region/admin is the region's admin state for rts region … --dir (CA key,
                         secrets.json): a new endpoint joins the running region with rts region add-endpoint and
                         rts region sync-broker, as printed at the start
  --applicant-every S    the simulated doctor sends you a consult every S seconds (default 60; 0: never)
  --verbose              print every event of the region as a JSON line
The desktop app opens the same region by itself when no region of your own is set up (npm start).`;

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        headless: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        'applicant-every': { type: 'string', default: '60' },
        verbose: { type: 'boolean', default: false },
        'serve-app': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n${USAGE}`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const parsed = parseCommandLine();
  if (!parsed) return 2;
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.headless) {
    console.error(
      `demo: only --headless is available from the command line (the desktop app opens the demo region itself)\n${USAGE}`,
    );
    return 2;
  }
  const applicantEvery = values.check ? 0 : Number(values['applicant-every']);
  if (!Number.isFinite(applicantEvery) || applicantEvery < 0) {
    console.error('demo: --applicant-every takes a number of seconds (0: off)');
    return 2;
  }
  const temporary = values['data-dir'] === undefined;
  const dataDir = temporary ? mkdtempSync(join(tmpdir(), 'rts-demo-')) : resolve(values['data-dir']!);
  const started = Date.now();
  let region: DemoRegion | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      await region?.stop();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    })());

  // Installed before the start, so that a signal during it still stops what was started and removes the data.
  const signalled = new Promise<void>((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal());
    process.once('SIGTERM', () => resolveSignal());
  });
  void signalled.then(async () => {
    if (!values.check && region) return;
    console.log('demo: interrupted');
    await shutdown();
    process.exit(130);
  });

  try {
    region = await startDemoRegion({
      dataDir,
      applicantEverySeconds: applicantEvery,
      log: (line) => {
        if (values.verbose || String(line.event).startsWith('simulated-')) console.log(JSON.stringify(line));
      },
    });
    console.log(
      `demo region started in ${((Date.now() - started) / 1000).toFixed(1)} s (data: ${temporary ? 'temporary' : dataDir})`,
    );
    console.log(
      `  broker: amqp://127.0.0.1:${region.amqpPort} vhost ${region.user.vhost}, management ${region.managementUrl}`,
    );
    console.log(
      `  directory: ${region.directorySize} experts; your workstation: endpoint ${region.user.endpointId}, practitioner ${region.user.practitionerId}`,
    );
    console.log(
      `  simulated expert (answers every consult): ${region.simulatedExpert.practitionerId} at ${region.simulatedExpert.endpointId}`,
    );
    console.log(
      `  simulated applicant: ${region.simulatedApplicant.practitionerId} at ${region.simulatedApplicant.endpointId}${applicantEvery > 0 ? `, a consult every ${applicantEvery} s` : ', sends none'}`,
    );
    // The rts command by its path, on this Node (one that runs .ts), so that the line works from any directory.
    const rts = `${shellWord(process.execPath)} ${shellWord(resolve(import.meta.dirname, '..', 'cli', 'rts.ts'))}`;
    const admin = shellWord(region.adminDir);
    // Where the secrets are, never what they are.
    console.log(
      `  admin state for rts region --dir (holds the CA key and secrets.json${temporary ? '; removed at the end' : ''}): ${region.adminDir}`,
    );
    console.log(
      `  enrol a clinic system: ${rts} region add-endpoint clinic-x --kind clinic-system --practitioner dr-a --dir ${admin} && ${rts} region sync-broker --dir ${admin}`,
    );

    if (values['serve-app']) {
      if (!process.send) {
        console.error('demo: --serve-app needs an IPC channel (it is started by the desktop app)');
        await shutdown();
        return 2;
      }
      const { user } = region;
      const access: DemoAccessMessage = {
        type: 'demo-region-ready',
        endpointId: user.endpointId,
        amqpPort: user.amqpPort,
        vhost: user.vhost,
        brokerPassword: user.brokerPassword,
        trust: user.trust,
        pkcs12: {
          signingBase64: Buffer.from(user.pkcs12.signing).toString('base64'),
          encryptionBase64: Buffer.from(user.pkcs12.encryption).toString('base64'),
          password: user.pkcs12.password,
        },
      };
      process.send(access);
      // The app is gone (quit or crashed): so is its region.
      process.once('disconnect', () => void shutdown().then(() => process.exit(0)));
    }

    if (values.check) {
      const checkStarted = Date.now();
      const reason = await check(region, join(dataDir, 'ws-demo-check')).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      await shutdown();
      if (reason) {
        console.log(`demo-check: failed: ${reason}`);
        return 1;
      }
      console.log(`demo-check: round trip in ${((Date.now() - checkStarted) / 1000).toFixed(1)} s`);
      console.log('demo-check: ok');
      return 0;
    }

    await signalled;
    console.log('demo: stopping');
    await shutdown();
    return 0;
  } catch (error) {
    await shutdown().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    console.log(values.check ? `demo-check: failed: ${reason}` : `demo: failed: ${reason}`);
    return 1;
  }
}

/** A path as one word for a POSIX shell. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The user's workstation sends the simulated expert one consult and waits for its verified, signed report. */
async function check(region: DemoRegion, dir: string): Promise<void> {
  const deadline = Date.now() + CHECK_TIMEOUT_MS;
  const left = () => Math.max(1_000, deadline - Date.now());
  const core = await startDemoWorkstation(dir, region.user, { expectExperts: region.directorySize, timeoutMs: left() });
  try {
    const created = await call(core, COMMANDS.createConsult, {
      expertId: region.simulatedExpert.practitionerId,
      patient: { family: 'Demo', given: ['Check'], gender: 'unknown', birthDate: '1970-01-01' },
      priority: 'routine',
      reason: 'demo-check round trip',
      question: 'Is the region working?',
    });
    await until(
      async () => {
        const summary = (await call(core, COMMANDS.listCases, {})).find((c) => c.caseId === created.caseId);
        if (summary?.attention) throw new Error(`the consult was refused: ${JSON.stringify(summary.attention)}`);
        return summary?.status === 'completed';
      },
      'the report of the simulated expert',
      left(),
      200,
    );
    const view = await call(core, COMMANDS.openCase, { caseId: created.caseId });
    if (!view.report?.verified) throw new Error('the report arrived but is not verified');
    if (!view.report.signer?.subject.includes(`CN=${region.simulatedExpert.practitionerId}`))
      throw new Error(`the report is signed by ${view.report.signer?.subject ?? 'nobody'}`);
  } finally {
    await core.stop();
  }
}

process.exitCode = await main();
// Whatever the libraries left open (timers, sockets of a failed start) must not keep the command alive.
setTimeout(() => process.exit(), 2_000).unref();
