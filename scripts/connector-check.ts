/**
 * npm run connector:check
 *
 * A new clinic joins the demo region with a connector, as its administrator and its supplier would do it, and its
 * clinic system (the Python client, standard library only) works through the connector's HTTP API:
 *   1. the demo region starts (its own broker and hub; nothing to install);
 *   2. `rts region add-endpoint clinic-check --kind clinic-system --practitioner …` and `rts region sync-broker` on the
 *      demo's admin directory: the enrolment file, the .p12 files and passwords, the broker user;
 *   3. a connector.json whose secrets are environment variables, as on a server with no OS keychain (a master key
 *      seals the connector's own keys in its data directory); the connector starts;
 *   4. integration/connector_client.py publishes 3 experts from CSV, finds the demo's cardiologist in the regional
 *      directory, sends her a consult, waits for her signed report and checks who signed it.
 * Prints `connector-check: ok` (exit 0), or `connector-check: FAILED: <reason>` (exit 1).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprint } from '../shared/enrolment/index.ts';
import { pemToDer, PEM_LABELS } from '../shared/pki/index.ts';
import { startDemoRegion, type DemoRegion } from '../demo/demo-region.ts';
import { TEST_PGLITE_TEMPLATES } from '../testkit/index.ts';
import { runConnector, type RunningConnector } from '../connector/index.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'cli', 'rts.ts');
const PYTHON_CLIENT = join(ROOT, 'integration', 'connector_client.py');
const CLINIC = 'clinic-check';
const PRACTITIONERS = ['dr-ask', 'dr-bo', 'dr-cy'];
const TIMEOUT_S = 120;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', env, timeout: (TIMEOUT_S + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[command, ...args.slice(0, 3)].join(' ')} …: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rts-connector-check-'));
  let region: DemoRegion | undefined;
  let connector: RunningConnector | undefined;
  try {
    region = await startDemoRegion({
      dataDir,
      generatedExperts: 30,
      expertDelayMs: 300,
      hubDatabaseTemplates: TEST_PGLITE_TEMPLATES,
    });
    const admin = region.adminDir;
    console.log(`demo region up: broker 127.0.0.1:${region.amqpPort}, admin state ${admin}`);

    await run(process.execPath, [
      CLI,
      'region',
      'add-endpoint',
      CLINIC,
      '--kind',
      'clinic-system',
      ...PRACTITIONERS.flatMap((p) => ['--practitioner', p]),
      '--dir',
      admin,
    ]);
    await run(process.execPath, [CLI, 'region', 'sync-broker', '--dir', admin]);
    const secrets = JSON.parse(readFileSync(join(admin, 'secrets.json'), 'utf8')) as Record<string, string>;
    const endpointDir = join(admin, 'endpoints', CLINIC);
    console.log(`enrolled ${CLINIC} with ${PRACTITIONERS.length} practitioners`);

    // What the clinic's supplier writes: the files it was handed, secrets by environment variable.
    const env: Record<string, string> = {
      RTS_CONNECTOR_BROKER_PASSWORD: secrets[CLINIC]!,
      RTS_CONNECTOR_TOKEN: randomToken(),
      RTS_CONNECTOR_MASTER_KEY: randomToken(),
    };
    const p12 = (file: string) => {
      const variable = `RTS_P12_${Object.keys(env).length}`;
      env[variable] = secrets[file]!;
      return { pkcs12File: join(endpointDir, file), password: { env: variable } };
    };
    const connectorDir = join(dataDir, 'connector');
    const config = {
      enrolmentFile: join(endpointDir, `${CLINIC}.rtsenrol`),
      // The fingerprint the administrator reads out by phone: here, read from the admin directory's CA.
      caFingerprint: await certificateFingerprint(
        pemToDer(readFileSync(join(admin, 'ca.pem'), 'utf8'), PEM_LABELS.certificate),
      ),
      brokerPassword: { env: 'RTS_CONNECTOR_BROKER_PASSWORD' },
      clinicSystem: p12(`${CLINIC}.p12`),
      practitioners: PRACTITIONERS.map((p) => ({
        id: `${CLINIC}.${p}`,
        signing: p12(`${CLINIC}.${p}.signing.p12`),
        encryption: p12(`${CLINIC}.${p}.encryption.p12`),
      })),
      dataDir: join(connectorDir, 'data'),
      masterKey: { env: 'RTS_CONNECTOR_MASTER_KEY' },
      organization: 'Check Clinic',
      api: { host: '127.0.0.1', port: 0, token: { env: 'RTS_CONNECTOR_TOKEN' } },
    };
    mkdirSync(connectorDir, { recursive: true });
    const configFile = join(connectorDir, 'connector.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const tokenFile = join(connectorDir, 'token');
    writeFileSync(tokenFile, env.RTS_CONNECTOR_TOKEN!, { mode: 0o600 });
    connector = await runConnector({
      configFile,
      env: { ...process.env, ...env },
      reconnectDelayMs: { initial: 200, max: 1_000 },
    });
    console.log(`connector up: ${connector.url}`);

    const csv = join(connectorDir, 'experts.csv');
    writeFileSync(
      csv,
      [
        'local_id,prefix,given,family,specialties,languages,organization_id,organization_name,city,country',
        'dr-ask,Dr.,Ingrid,Ask,General practice,nb;en,checkvik,Checkvik Health Centre,Checkvik,NO',
        'dr-bo,Dr.,Bo,Berge,Pediatrics,nb,checkvik,Checkvik Health Centre,Checkvik,NO',
        'dr-cy,Dr.,Cyrus,Dahl,Radiology,nb;en,checkvik,Checkvik Health Centre,Checkvik,NO',
      ].join('\n'),
    );
    const output = await run('python3', [
      PYTHON_CLIENT,
      'ask',
      '--url',
      connector.url,
      '--token-file',
      tokenFile,
      '--csv',
      csv,
      '--from',
      `${CLINIC}.dr-ask`,
      '--expert-name',
      'Lind',
      '--timeout',
      String(TIMEOUT_S),
    ]);
    const result = JSON.parse(output.trim().split('\n').pop()!) as {
      entries: number;
      expert: string;
      status: string;
      reportSignedBy: string;
    };
    if (result.entries !== 3) throw new Error(`the publication carried ${result.entries} experts, not 3`);
    if (
      result.expert !== region.simulatedExpert.practitionerId ||
      result.reportSignedBy !== result.expert ||
      result.status !== 'completed'
    ) {
      throw new Error(`unexpected outcome: ${output.trim()}`);
    }
    console.log(
      `published 3 experts; consult to ${result.expert} answered with a report signed by ${result.reportSignedBy}`,
    );
  } finally {
    await connector?.stop();
    await region?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}

try {
  await main();
  console.log('connector-check: ok');
  process.exit(0);
} catch (error) {
  console.log(`connector-check: FAILED: ${(error as Error).message}`);
  process.exit(1);
}
