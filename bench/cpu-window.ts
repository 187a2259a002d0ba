import { readFileSync } from 'node:fs';

/**
 * Where the CPU went in a timed window (Linux /proc): this process's main thread, the whole process (its worker
 * threads and libuv's pool too), and the machine (the broker and everything else). It tells whether a benchmark waits
 * on its event loop, on the cores, or on neither.
 */
export interface CpuWindow {
  /** Seconds of CPU since the start, and the window's wall seconds. */
  stop(): { wallS: number; mainThreadS: number; processS: number; machineBusyS: number; cores: number };
}

/** Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux). */
const TICKS = 100;

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

export function startCpuWindow(): CpuWindow {
  const startedAt = performance.now();
  const thread = threadTicks();
  const processStart = process.cpuUsage();
  const machine = machineTicks();
  return {
    stop() {
      const used = process.cpuUsage(processStart);
      const now = machineTicks();
      return {
        wallS: (performance.now() - startedAt) / 1000,
        mainThreadS: (threadTicks() - thread) / TICKS,
        processS: (used.user + used.system) / 1e6,
        machineBusyS: (now.busy - machine.busy) / TICKS,
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
    `of ${window.cores} cores busy (the broker and everything else included)`
  );
}
