import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { launchProcess, ProcessLaunchError, type LaunchOptions, type LaunchedProcess } from './process-launcher';

/** A real nats-server child process with JetStream, on a free loopback port, with its own store folder. */
export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the server (SIGTERM) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops the server and deletes its store. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Path of the nats-server binary: NATS_SERVER_BIN, else the one on PATH or Debian's /usr/sbin. */
export function natsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.NATS_SERVER_BIN ?? 'nats-server';
}

/** `env` with Debian's sbin folders on PATH, where its nats-server package installs the binary. */
export function withSbinOnPath(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, PATH: `${env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` };
}

/** How to launch nats-server with JetStream on 127.0.0.1:`port`, storing in `storeDir`. */
export function natsServerCommand(
  port: number,
  storeDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Pick<LaunchOptions, 'command' | 'args' | 'env'> {
  return {
    command: natsServerBinary(env),
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    env: withSbinOnPath(env),
  };
}

/** A failed start, with how to install nats-server when the binary is missing. */
export function explainNatsServerStartFailure(error: unknown): unknown {
  if (error instanceof ProcessLaunchError && error.reason === 'spawn-failed') {
    return new Error(`${error.message}; install it with: apt-get install -y nats-server`, { cause: error });
  }
  return error;
}

/**
 * Starts nats-server through the shared launcher and waits for its own "Server is ready" line (not merely an open
 * port, which another process may hold); a failed start quotes its last log lines.
 */
async function launch(port: number, storeDir: string): Promise<LaunchedProcess> {
  const server = launchProcess({
    name: 'nats-server',
    ...natsServerCommand(port, storeDir),
    ready: { line: 'Server is ready' },
    readyTimeoutMs: 15_000,
    stopGraceMs: 10_000,
  });
  try {
    await server.ready;
  } catch (error) {
    throw explainNatsServerStartFailure(error);
  }
  return server;
}

/** Starts nats-server for a test suite; call `stop()` in `after()`. */
export async function startNatsServer(): Promise<NatsServerHandle> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'waygate-nats-'));
  let server: LaunchedProcess;
  try {
    server = await launch(port, storeDir);
  } catch (error) {
    rmSync(storeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async restart() {
      await server.stop();
      server = await launch(port, storeDir);
    },
    async stop() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
