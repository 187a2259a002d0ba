import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HUB_MAIN = fileURLToPath(new URL('../../hub/main.ts', import.meta.url));

export interface HubProcess {
  readonly pid: number;
  /** SIGTERM, as an operator stops it; SIGKILL if it has not exited within 30 s. */
  stop(): Promise<void>;
}

/**
 * The hub as a region runs it: `node hub/main.ts --config FILE` in a process of its own. Resolves once it logged
 * `started`; its log is read (and dropped) for as long as it runs, so that a busy hub never blocks on a full pipe.
 */
export async function startHubProcess(config: {
  readonly file: string;
  readonly env: Record<string, string>;
}): Promise<HubProcess> {
  const child = spawn(process.execPath, [HUB_MAIN, '--config', config.file], {
    env: { ...process.env, ...config.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the hub process did not log started within 60 s')), 60_000);
    void exited.then((code) => reject(new Error(`the hub process exited with ${code} before it started`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"event":"started"')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
