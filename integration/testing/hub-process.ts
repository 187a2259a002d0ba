import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HUB_MAIN = fileURLToPath(new URL('../../hub/main.ts', import.meta.url));

export interface ChildService {
  readonly pid: number;
  /** SIGTERM, as an operator stops it; SIGKILL if it has not exited within 30 s. */
  stop(): Promise<void>;
}
export type HubProcess = ChildService;

/**
 * `node SCRIPT ARGS…` in a process of its own, resolved once a line of its stdout passes `ready` (within 60 s). Its
 * output is read for as long as it runs (so that a busy process never blocks on a full pipe), each line after `ready`
 * handed to `onLine` if given.
 */
export async function startChildService(
  script: string,
  args: readonly string[],
  options: {
    readonly env?: Record<string, string>;
    readonly ready: (line: string) => boolean;
    readonly onLine?: (line: string) => void;
  },
): Promise<ChildService> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} was not ready within 60 s`)), 60_000);
    void exited.then((code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    let ready = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (ready) return options.onLine?.(line);
      if (!options.ready(line)) return;
      ready = true;
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

/** The hub as a region runs it: `node hub/main.ts --config FILE`, ready once it logged `started`. */
export function startHubProcess(config: {
  readonly file: string;
  readonly env: Record<string, string>;
}): Promise<HubProcess> {
  return startChildService(HUB_MAIN, ['--config', config.file], {
    env: config.env,
    ready: (line) => line.includes('"event":"started"'),
  });
}
