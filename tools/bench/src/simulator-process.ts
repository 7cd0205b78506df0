import { fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SimulatorEvent, SimulatorOptions } from '@waygate/whatsapp-simulator';
import { withCleanup } from './cleanup';
import { cpuProfileArgs } from './service-process';

/** What the benchmark sends the simulator process first. */
export interface SimulatorProcessStart {
  readonly options: Omit<SimulatorOptions, 'onEvent'>;
  /** The event types to forward; every other event stays in the simulator process. */
  readonly forward: readonly SimulatorEvent['type'][];
}

/** What the simulator process sends back: its URL once listening, forwarded events (with wall-clock ms), or why it failed. */
export type SimulatorProcessMessage =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'events'; readonly events: readonly (readonly [SimulatorEvent, number])[] }
  | { readonly type: 'failed'; readonly error: string };

/** The WhatsApp simulator running in its own process. */
export interface SimulatorProcess {
  readonly url: string;
  readonly pid: number;
  /** Stops the simulator (SIGKILL if it has not exited within 10 s). */
  stop(): Promise<void>;
}

const WORKER = path.join(__dirname, 'simulator-process.worker.ts');
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/**
 * Starts the simulator in a child process (`node --import tsx simulator-process.worker.ts`, IPC with structured
 * clone) and resolves once it listens. `onEvent` gets each forwarded event with the moment it happened in the
 * simulator process, on this process's `performance.now()` clock (both processes' `performance.timeOrigin` come from
 * the same system clock), so latencies still end when the Cloud API request arrived, not when the event reached here.
 */
export async function startSimulatorProcess(
  start: SimulatorProcessStart,
  onEvent: (event: SimulatorEvent, at: number) => void,
): Promise<SimulatorProcess> {
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx', ...cpuProfileArgs('simulator')],
    cwd: path.resolve(__dirname, '../../..'),
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Own process group, as the services: a terminal's Ctrl-C reaches only the benchmark, which stops it.
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = withCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the simulator process did not start within ${READY_TIMEOUT_MS / 1000} s`)),
        READY_TIMEOUT_MS,
      );
      child.on('message', (message: SimulatorProcessMessage) => {
        if (message.type === 'events') for (const [event, atEpochMs] of message.events) onEvent(event, atEpochMs - performance.timeOrigin);
        else if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message.url);
        } else if (message.type === 'failed') reject(new Error(`the simulator process failed to start: ${message.error}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the simulator process exited (${signal ?? code}) before it listened${stderr ? `:\n${stderr}` : ''}`));
      });
      child.send({ options: start.options, forward: start.forward } satisfies SimulatorProcessStart);
    });
    return { url, pid: child.pid as number, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
