import { readFileSync } from 'node:fs';
import { ARTEMIS_STATE_ENV, BROKER_STATE_ENV, loadArtemisEnv, loadBrokerEnv } from '../scripts/test-env/index.ts';
import { BROKER_KIND_ENV } from '../testkit/index.ts';

/**
 * Where the CPU went in a timed window (Linux /proc): this process's main thread, the whole process (its worker
 * threads and libuv's pool too), and the machine (the broker and everything else). It tells whether a benchmark waits
 * on its event loop, on the cores, or on neither. With the private broker of the run, also what its nodes used.
 */
export interface CpuWindow {
  /**
   * Seconds of CPU since the start, and the window's wall seconds. `brokerS`: NaN without the run's broker; `others`:
   * the processes named at the start.
   */
  stop(): {
    wallS: number;
    mainThreadS: number;
    processS: number;
    machineBusyS: number;
    brokerS: number;
    others: Record<string, number>;
    cores: number;
  };
}

/** Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU seconds a process has used so far (utime and stime of /proc/PID/stat). */
export const processCpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
};

/**
 * CPU seconds the run's private broker nodes have used so far, those of the broker under test (`RTS_BROKER`, as
 * testkit/broker-under-test.ts picks it); NaN without it.
 */
export const brokerCpuSeconds = (): number => {
  const artemis = process.env[BROKER_KIND_ENV] === 'artemis';
  if (!process.env[artemis ? ARTEMIS_STATE_ENV : BROKER_STATE_ENV]) return NaN;
  const nodes: readonly { pid?: number }[] = artemis ? loadArtemisEnv().nodes : loadBrokerEnv().nodes;
  return nodes.reduce((sum, node) => sum + (node.pid ? processCpuSeconds(node.pid) : 0), 0);
};

const threadTicks = (): number => {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 3, utime and stime fields 14 and 15.
  return Number(fields[11]) + Number(fields[12]);
};

const machineTicks = (): { busy: number; cores: number } => {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, ...values] = lines[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = values.slice(0, 8).reduce((a, b) => a + b, 0) - values[3]! - values[4]!;
  return { busy, cores: lines.filter((line) => /^cpu\d/.test(line)).length };
};

export function startCpuWindow(others: Record<string, number> = {}): CpuWindow {
  const startedAt = performance.now();
  const thread = threadTicks();
  const processStart = process.cpuUsage();
  const machine = machineTicks();
  const broker = brokerCpuSeconds();
  const othersAtStart = Object.fromEntries(Object.entries(others).map(([name, pid]) => [name, processCpuSeconds(pid)]));
  return {
    stop() {
      const used = process.cpuUsage(processStart);
      const now = machineTicks();
      return {
        wallS: (performance.now() - startedAt) / 1000,
        mainThreadS: (threadTicks() - thread) / TICKS,
        processS: (used.user + used.system) / 1e6,
        machineBusyS: (now.busy - machine.busy) / TICKS,
        brokerS: brokerCpuSeconds() - broker,
        others: Object.fromEntries(
          Object.entries(others).map(([name, pid]) => [name, processCpuSeconds(pid) - othersAtStart[name]!]),
        ),
        cores: now.cores,
      };
    },
  };
}

/** One line: e.g. "CPU in the window: main thread 0.97 of the time, this process 1.48 cores, the machine 1.96 of 2". */
export function describeCpu(window: ReturnType<CpuWindow['stop']>): string {
  const share = (seconds: number) => (seconds / window.wallS).toFixed(2);
  return (
    `CPU in the timed window: main thread busy ${share(window.mainThreadS)} of the time, this process ` +
    `${share(window.processS)} cores (its workers and thread pool included), the machine ${share(window.machineBusyS)} ` +
    `of ${window.cores} cores busy (the broker and everything else included)` +
    (Number.isNaN(window.brokerS) ? '' : `, of which the broker ${share(window.brokerS)}`)
  );
}
