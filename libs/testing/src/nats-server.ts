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
  /** The server's process id (it changes on `restart`), for /proc readings such as a benchmark's CPU time. */
  readonly pid: number;
  /** Stops the server (SIGTERM) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops the server and deletes its store. */
  stop(): Promise<void>;
}

/**
 * Where freePort looks: below the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range, usually
 * 32768–60999). A port the OS picks by itself (a server told to listen on port 0, e.g. a service's metrics endpoint
 * in tests; the local side of every outgoing connection) always comes from the ephemeral range, so it can never take
 * a port freePort handed out but not yet bound.
 */
const FREE_PORT_RANGE = { from: 20_000, to: 32_000 } as const;
const handedOut = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago on 127.0.0.1, outside the ephemeral range, and not handed out before by this
 * process (a test may reserve several before it starts anything).
 */
export async function freePort(): Promise<number> {
  const span = FREE_PORT_RANGE.to - FREE_PORT_RANGE.from;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FREE_PORT_RANGE.from + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    if (await tryListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in ${FREE_PORT_RANGE.from}-${FREE_PORT_RANGE.to} after 200 attempts`);
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
    get pid() {
      return server.child.pid as number;
    },
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
