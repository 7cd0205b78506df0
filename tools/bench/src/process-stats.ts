import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process a benchmark phase involves: a service child, nats-server, the simulator, or this process (the load generator). */
export interface MeasuredProcess {
  readonly name: string;
  /** Its process id, read at each sample (nats-server's changes on restart); `'self'` for this process. */
  readonly pid: () => number | 'self';
}

/** The name this process is reported under: the load generator and the observers of items' ends (the simulator runs in a process of its own). */
export const BENCH_PROCESS_NAME = 'bench';

/** This process, for {@link CpuMeter}. */
export const SELF: MeasuredProcess = { name: BENCH_PROCESS_NAME, pid: () => 'self' };

let clockTicksPerSec: number | undefined;

/** Linux's USER_HZ (/proc/<pid>/stat counts CPU time in these ticks); 100 on every common system. */
function ticksPerSec(): number {
  if (clockTicksPerSec === undefined) {
    try {
      clockTicksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSec = 100;
    }
  }
  return clockTicksPerSec;
}

/** The fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parentheses). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time (user + system) a process has used so far, in milliseconds; undefined when it is gone or /proc is
 * unavailable (not Linux). For this process, `process.cpuUsage()` (microsecond resolution).
 */
export function cpuTimeMs(pid: number | 'self'): number | undefined {
  if (pid === 'self') {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  }
  try {
    const fields = statFields(pid);
    // Fields 14 and 15 of proc(5) (utime, stime); field 3 (state) is index 0 here.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSec();
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB (VmRSS of /proc/<pid>/status; `process.memoryUsage.rss()` for this process). */
export function rssMiB(pid: number | 'self'): number | undefined {
  if (pid === 'self') return process.memoryUsage.rss() / 1048576;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time one process used during a phase, and per completed item. */
export interface ProcessCpu {
  readonly process: string;
  readonly cpuMs: number;
  /** cpuMs / completed items; what one message costs this process, whatever else shared the machine. */
  readonly msPerItem: number;
}

/** CPU time of a set of processes between `start()` and `stop(completedItems)`. */
export class CpuMeter {
  constructor(private readonly processes: readonly MeasuredProcess[]) {}

  /** Samples every process now; call `stop` on the result at the phase's end. */
  start(): { stop(completedItems: number): ProcessCpu[] } {
    const before = this.processes.map((p) => cpuTimeMs(p.pid()));
    return {
      stop: (completedItems) => {
        const rows: ProcessCpu[] = [];
        this.processes.forEach((p, index) => {
          const start = before[index];
          const end = cpuTimeMs(p.pid());
          if (start === undefined || end === undefined) return;
          const cpuMs = end - start;
          rows.push({ process: p.name, cpuMs: Math.round(cpuMs), msPerItem: completedItems > 0 ? round3(cpuMs / completedItems) : 0 });
        });
        if (rows.length > 0) {
          const cpuMs = rows.reduce((sum, row) => sum + row.cpuMs, 0);
          rows.push({ process: 'total', cpuMs, msPerItem: completedItems > 0 ? round3(cpuMs / completedItems) : 0 });
        }
        return rows;
      },
    };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
