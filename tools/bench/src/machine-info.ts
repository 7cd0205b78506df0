import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { natsServerBinary, withSbinOnPath } from '@waygate/testing';

/** Where the figures were measured; they only mean something next to this. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly totalMemoryMb: number;
  readonly os: string;
  readonly node: string;
  readonly natsServer: string;
  /** 1-minute load average when the run started: well above 0 means something else was using the CPUs. */
  readonly loadAverage1mAtStart: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    natsServer: natsServerVersion(natsServerBinary()),
    loadAverage1mAtStart: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** `nats-server --version`, or 'unknown'. */
function natsServerVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], {
    encoding: 'utf8',
    env: withSbinOnPath(process.env),
  });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}
