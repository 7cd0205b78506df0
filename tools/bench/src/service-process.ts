import path from 'node:path';
import { checkGrpcHealth } from '@waygate/grpc';
import { launchProcess, tsxEntryCommand } from '@waygate/testing';
import { withCleanup } from './cleanup';

/** A Waygate service running as its own process, exactly as `npm start` runs it. */
export interface ServiceProcess {
  readonly name: string;
  readonly logFile: string;
  /** Its process id (for /proc readings such as peak RSS). */
  readonly pid: number;
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

let cpuProfileDir: string | undefined;

/**
 * `--cpu-prof <dir>`: every service started from now on runs with node's `--cpu-prof` (not allowed in NODE_OPTIONS),
 * writing its profile into `<dir>/<name>/` when it exits (the services exit normally on SIGTERM).
 */
export function profileServicesInto(dir: string): void {
  cpuProfileDir = dir;
}

/** Node's flags for process `name` under `--cpu-prof <dir>` (its profile in `<dir>/<name>/` on exit); none without it. */
export function cpuProfileArgs(name: string): string[] {
  return cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(cpuProfileDir, name)}`];
}

/**
 * Starts `apps/<name>/src/main.ts` with tsx in a child process with `env` (plus the inherited PATH etc.), logging to
 * `<logDir>/<name>.log` (written by the child itself: the load generator does no work for it), and resolves once its
 * gRPC health check reports SERVING. Child processes rather than the apps' start functions in this process: each
 * service gets its own event loop and CPU share as in production, the load generator does not compete with them for
 * one loop, and the tools -> apps dependency stays out of the project graph (only the end-to-end suite may start
 * apps).
 */
export async function startService(
  name: string,
  options: { env: NodeJS.ProcessEnv; logDir: string; grpcPort: number },
): Promise<ServiceProcess> {
  const logFile = path.join(options.logDir, `${name}.log`);
  const entry = tsxEntryCommand(`apps/${name}/src/main.ts`);
  entry.args.unshift(...cpuProfileArgs(name));
  const launched = launchProcess({
    name,
    ...entry,
    env: {
      ...inheritedEnv(),
      OTEL_SERVICE_NAME: name,
      WAYGATE_METRICS_PORT: '0',
      ...options.env,
      WAYGATE_GRPC_PORT: String(options.grpcPort),
    },
    output: { file: logFile },
    ready: { check: async () => (await checkGrpcHealth(`127.0.0.1:${options.grpcPort}`, { timeoutMs: 1000 })) === 'SERVING' },
    readyTimeoutMs: 60_000,
    // Own process group: a terminal's Ctrl-C reaches only the benchmark, which stops the services itself.
    detached: true,
  });
  // Registered before it is ready, so that an interrupted start stops it too.
  const stop = withCleanup(() => launched.stop());
  try {
    await launched.ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, logFile, pid: launched.child.pid as number, logTail: (lines) => launched.outputTail(lines), stop };
}
