import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkGrpcHealth } from '@waygate/grpc';
import { withCleanup } from './cleanup';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** A Waygate service running as its own process, exactly as `npm start` runs it. */
export interface ServiceProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM (the service drains), SIGKILL after the grace period. */
  stop(): Promise<void>;
}

// Inherited variables that would change what is measured (another store, an OTLP exporter) are dropped, so every
// service setting comes from the benchmark; PATH, HOME and friends are kept.
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('WAYGATE_') && !key.startsWith('OTEL_')));
}

const running = new Set<ChildProcess>();
// If the benchmark dies, take the services with it rather than leaving them running detached.
process.once('exit', () => running.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));

/**
 * Starts `apps/<name>/src/main.ts` with tsx in a child process with `env` (plus the inherited PATH etc.), logging to
 * `<logDir>/<name>.log`, and resolves once its gRPC health check reports SERVING. Child processes rather than the
 * apps' start functions in this process: each service gets its own event loop and CPU share as in production, the
 * load generator does not compete with them for one loop, and the tools -> apps dependency stays out of the project
 * graph (only the end-to-end suite may start apps).
 */
export async function startService(
  name: string,
  options: { env: NodeJS.ProcessEnv; logDir: string; grpcPort: number },
): Promise<ServiceProcess> {
  const logFile = path.join(options.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', `apps/${name}/src/main.ts`], {
    cwd: REPO_ROOT,
    env: { ...inheritedEnv(), OTEL_SERVICE_NAME: name, ...options.env, WAYGATE_GRPC_PORT: String(options.grpcPort) },
    stdio: ['ignore', fd, fd],
    // Own process group: a terminal's Ctrl-C reaches only the benchmark, which stops the services itself.
    detached: true,
  });
  closeSync(fd);
  running.add(child);
  const logTail = (lines = 20) => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const stop = withCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${name} exited with code ${child.exitCode} while starting:\n${logTail()}`);
    }
    if ((await checkGrpcHealth(`127.0.0.1:${options.grpcPort}`, { timeoutMs: 1000 }).catch(() => '')) === 'SERVING') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not report SERVING within 60 s:\n${logTail()}`);
    }
    await sleep(100);
  }
  return { name, logFile, child, logTail, stop };
}

/** `nats-server --version`, or 'unknown'. */
export function natsServerVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` },
  });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}
