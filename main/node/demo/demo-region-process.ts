import { fork, type ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { COMMANDS } from '../../../shared/api/index.ts';
import { endpointIdSchema } from '../../../shared/protocol/index.ts';
import type { WorkstationCore } from '../workstation-core.ts';

/**
 * The desktop app's way into the embedded demo region: the region (broker, hub, simulated clinics) runs in a child
 * Node process of its own (`demo/main.ts --headless --serve-app`), never inside the app, and hands over the access of
 * the user's workstation on the IPC channel; the app sets its core up with it like a user would on first run, through
 * the same commands, its secrets going to the OS keychain. The region stops when the app does.
 */
export const demoAccessMessageSchema = z.object({
  type: z.literal('demo-region-ready'),
  endpointId: endpointIdSchema,
  amqpPort: z.number().int().min(1).max(65_535),
  vhost: z.string().min(1),
  brokerPassword: z.string().min(1),
  trust: z.object({ anchorsPem: z.string(), crlsPem: z.string(), hubCertificatePem: z.string() }),
  pkcs12: z.object({ signingBase64: z.string(), encryptionBase64: z.string(), password: z.string() }),
});
export type DemoAccessMessage = z.infer<typeof demoAccessMessageSchema>;

export interface DemoRegionProcess {
  readonly access: DemoAccessMessage;
  stop(): Promise<void>;
}

/** Forks the demo region with `node` (a Node 22 that runs TypeScript) and resolves once it says it is ready. */
export function forkDemoRegion(options: {
  node: string;
  script: string;
  dataDir: string;
  applicantEverySeconds?: number;
  timeoutMs?: number;
}): Promise<DemoRegionProcess> {
  const child: ChildProcess = fork(
    options.script,
    [
      '--headless',
      '--serve-app',
      '--data-dir',
      options.dataDir,
      '--applicant-every',
      String(options.applicantEverySeconds ?? 90),
    ],
    {
      execPath: options.node,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error('the demo region did not start in time'));
    }, options.timeoutMs ?? 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo region stopped (exit ${code ?? 'by signal'}) before it was ready`));
    });
    child.on('message', (message) => {
      const parsed = demoAccessMessageSchema.safeParse(message);
      if (!parsed.success) return;
      clearTimeout(timer);
      resolve({ access: parsed.data, stop });
    });
  });
}

/** Sets the core up for the demo region: its trust, the demo practitioner's certificates, a profile marked demo. */
export async function joinDemoRegion(core: WorkstationCore, access: DemoAccessMessage): Promise<void> {
  const call = async (command: Parameters<WorkstationCore['dispatch']>[0], input: unknown) => {
    const result = await core.dispatch(command, input);
    if (!result.ok) throw new Error(`joining the demo region: ${result.error.message}`);
  };
  await call(COMMANDS.setTrust, access.trust);
  await call(COMMANDS.importPkcs12, {
    use: 'signing',
    pkcs12Base64: access.pkcs12.signingBase64,
    password: access.pkcs12.password,
  });
  await call(COMMANDS.importPkcs12, {
    use: 'encryption',
    pkcs12Base64: access.pkcs12.encryptionBase64,
    password: access.pkcs12.password,
  });
  await call(COMMANDS.setProfile, {
    profile: {
      hosts: [{ host: '127.0.0.1', port: access.amqpPort }],
      vhost: access.vhost,
      endpointId: access.endpointId,
      demo: true,
    },
    brokerPassword: access.brokerPassword,
  });
}
