import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { checkGrpcHealth } from '@waygate/grpc';
import { waitFor } from '@waygate/testing';

const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** A real media-store, started as its own process (apps may not import each other, so not in-process). */
export interface MediaStoreProcess {
  readonly address: string;
  /** SIGTERM, and wait for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (e.g. after `stop`, to end an outage). */
  start(): Promise<void>;
}

/** Starts `apps/media-store/src/main.ts` on `port` with a SQLite store under `dataDir`; resolves once it is SERVING. */
export async function startMediaStoreProcess(options: {
  port: number;
  tenantsFile: string;
  dataDir: string;
  internalServiceToken: string;
}): Promise<MediaStoreProcess> {
  const address = `127.0.0.1:${options.port}`;
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    output = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/media-store/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        WAYGATE_REGION: 'eu',
        WAYGATE_TENANTS_FILE: options.tenantsFile,
        WAYGATE_DATA_DIR: options.dataDir,
        WAYGATE_GRPC_PORT: String(options.port),
        WAYGATE_INTERNAL_SERVICE_TOKEN: options.internalServiceToken,
        WAYGATE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = child;
    for (const stream of [started.stdout, started.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`media-store exited with ${started.exitCode}: ${output}`);
        return (await checkGrpcHealth(address, { timeoutMs: 500 }).catch(() => 'DOWN')) === 'SERVING';
      },
      { timeoutMs: 30_000, what: 'media-store to serve' },
    );
  }

  await start();
  return {
    address,
    start,
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const force = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    },
  };
}
