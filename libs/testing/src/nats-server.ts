import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait-for';

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
export function natsServerBinary(): string {
  return process.env.NATS_SERVER_BIN ?? 'nats-server';
}

function launch(port: number, storeDir: string): ChildProcess {
  const child = spawn(natsServerBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` },
  });
  child.stderr?.resume();
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** Starts nats-server for a test suite; call `stop()` in `after()`. */
export async function startNatsServer(): Promise<NatsServerHandle> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'waygate-nats-'));
  let child = launch(port, storeDir);
  const ready = async () => {
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (error) =>
        reject(
          new Error(`cannot start nats-server (${natsServerBinary()}): ${error.message}; install it with: apt-get install -y nats-server`),
        ),
      ),
    );
    await Promise.race([waitFor(() => isPortOpen(port), { timeoutMs: 10_000, what: `nats-server on port ${port}` }), failed]);
  };
  await ready();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async restart() {
      await terminate(child);
      child = launch(port, storeDir);
      await ready();
    },
    async stop() {
      await terminate(child);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
