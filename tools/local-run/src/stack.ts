import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { checkGrpcHealth } from '@waygate/grpc';
import { isPortOpen } from '@waygate/testing';
import { devTenantsYaml, loadDevCredentials, type DevCredentials } from './dev-credentials';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** The five services, in start order (consumers before producers is not needed: streams are durable). */
export const SERVICES = ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Where everything listens; defaults are the documented local ports. */
export interface StackPorts {
  readonly nats: number;
  readonly simulator: number;
  readonly webhook: number;
  readonly grpc: Readonly<Record<ServiceName, number>>;
}

export const DEFAULT_PORTS: StackPorts = {
  nats: 4222,
  simulator: 8090,
  webhook: 8080,
  grpc: { ingress: 50051, receipt: 50052, 'media-store': 50053, archive: 50054, 'delivery-retry': 50055 },
};

export interface StackOptions {
  readonly dataDir: string;
  readonly region?: 'eu' | 'us';
  readonly ports?: StackPorts;
  /** Receives every output line of every child process. */
  readonly onLine: (processName: string, line: string) => void;
  /** Extra environment for the services (e.g. WAYGATE_TRACE_FILE, WAYGATE_LOG_LEVEL). */
  readonly serviceEnv?: NodeJS.ProcessEnv;
  readonly env?: NodeJS.ProcessEnv;
}

export interface LocalStack {
  readonly credentials: DevCredentials;
  readonly ports: StackPorts;
  readonly simulatorUrl: string;
  readonly webhookUrl: string;
  readonly tenantsFile: string;
  /** Running child processes by name (nats-server, whatsapp-simulator and the five services). */
  readonly processes: ReadonlyMap<string, ChildProcess>;
  /** Stops services (SIGTERM, they drain), then the simulator, then nats-server. */
  stop(): Promise<void>;
}

function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', () => reject(new Error(`port ${port} for ${what} is in use; stop whatever uses it or set ${variable}`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting (see its log lines above)`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the whole platform locally as real child processes: nats-server (JetStream in the data folder), the
 * WhatsApp simulator, and the five services on the embedded SQLite store, with seeded demo tenants. Resolves once
 * every gRPC server reports SERVING and the simulator completed Meta's webhook subscription handshake with receipt.
 */
export async function startLocalStack(options: StackOptions): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const ports = options.ports ?? DEFAULT_PORTS;
  const region = options.region ?? 'eu';
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const credentials = loadDevCredentials(dataDir, env);
  const tenantsFile = path.join(dataDir, 'tenants.yaml');
  writeFileSync(tenantsFile, devTenantsYaml(credentials), { mode: 0o600 });

  await assertPortFree(ports.nats, 'nats-server', 'WAYGATE_DEV_NATS_PORT');
  await assertPortFree(ports.simulator, 'the WhatsApp simulator', 'WAYGATE_DEV_SIMULATOR_PORT');
  await assertPortFree(ports.webhook, 'the receipt webhook', 'WAYGATE_DEV_WEBHOOK_PORT');
  for (const service of SERVICES) await assertPortFree(ports.grpc[service], service, 'the WAYGATE_DEV_*_PORT variables');

  const processes = new Map<string, ChildProcess>();
  const startOrder: string[] = [];
  const launch = (name: string, command: string, args: string[], childEnv: NodeJS.ProcessEnv): ChildProcess => {
    // Own process group: a terminal's Ctrl-C reaches only the runner, which then stops children in order (a service
    // that got SIGINT from the terminal and SIGTERM from the runner would take the second as "exit now").
    const child = spawn(command, args, { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.on('error', (error) => options.onLine(name, `failed to start: ${error.message}`));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) readline.createInterface({ input: stream }).on('line', (line) => options.onLine(name, line));
    }
    processes.set(name, child);
    startOrder.push(name);
    return child;
  };

  // If the runner itself dies, take the children with it rather than leaving them running detached.
  const killAll = () => processes.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  process.once('exit', killAll);

  const stop = async () => {
    const services = startOrder.filter((name) => (SERVICES as readonly string[]).includes(name)).reverse();
    await Promise.all(services.map((name) => stopChild(processes.get(name) as ChildProcess, 15_000)));
    for (const name of ['whatsapp-simulator', 'nats-server']) {
      const child = processes.get(name);
      if (child) await stopChild(child, 5_000);
    }
    process.removeListener('exit', killAll);
  };

  try {
    const nats = launch(
      'nats-server',
      env.NATS_SERVER_BIN ?? 'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(ports.nats), '-sd', path.join(dataDir, 'nats')],
      {
        ...env,
        PATH: `${env.PATH ?? ''}:/usr/sbin:/usr/local/sbin`,
      },
    );
    const natsMissing = new Promise<never>((_, reject) =>
      nats.once('error', (error) =>
        reject(new Error(`cannot run nats-server (${error.message}); install it: sudo apt-get install -y nats-server`)),
      ),
    );
    await Promise.race([waitUntil(() => isPortOpen(ports.nats), 15_000, 'nats-server', nats), natsMissing]);

    const simulatorUrl = `http://127.0.0.1:${ports.simulator}`;
    const simulator = launch(
      'whatsapp-simulator',
      process.execPath,
      ['--import', 'tsx', 'tools/whatsapp-simulator/src/main.ts', '--port', String(ports.simulator)],
      {
        ...env,
        SIMULATOR_APP_SECRET: credentials.appSecret,
        SIMULATOR_PHONE_NUMBER_ID: credentials.phoneNumberId,
        SIMULATOR_ACCESS_TOKEN: credentials.accessToken,
        SIMULATOR_WABA_ID: credentials.wabaId,
        SIMULATOR_DISPLAY_PHONE_NUMBER: credentials.displayPhoneNumber,
      },
    );
    await waitUntil(async () => (await fetch(`${simulatorUrl}/_simulator/health`)).ok, 30_000, 'whatsapp-simulator', simulator);

    const commonEnv: NodeJS.ProcessEnv = {
      ...env,
      WAYGATE_REGION: region,
      WAYGATE_NATS_URL: `nats://127.0.0.1:${ports.nats}`,
      WAYGATE_TENANTS_FILE: tenantsFile,
      WAYGATE_DATA_DIR: dataDir,
      WAYGATE_STORAGE: 'sqlite',
      WAYGATE_WHATSAPP_API_BASE_URL: simulatorUrl,
      WAYGATE_HTTP_PORT: String(ports.webhook),
      WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${ports.grpc['delivery-retry']}`,
      // receipt stores inbound media in media-store acting for the tenant; a fresh token per run is enough locally.
      WAYGATE_INTERNAL_SERVICE_TOKEN: randomBytes(32).toString('hex'),
      WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${ports.grpc['media-store']}`,
      ...options.serviceEnv,
    };
    const services = SERVICES.map((service) => ({
      service,
      child: launch(service, process.execPath, ['--import', 'tsx', `apps/${service}/src/main.ts`], {
        ...commonEnv,
        WAYGATE_GRPC_PORT: String(ports.grpc[service]),
        OTEL_SERVICE_NAME: service,
      }),
    }));
    await Promise.all(
      services.map(({ service, child }) =>
        waitUntil(async () => (await checkGrpcHealth(`127.0.0.1:${ports.grpc[service]}`)) === 'SERVING', 60_000, service, child),
      ),
    );

    const webhookUrl = `http://127.0.0.1:${ports.webhook}/webhooks/whatsapp`;
    const subscribed = await fetch(`${simulatorUrl}/_simulator/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: webhookUrl, verifyToken: credentials.verifyToken }),
    });
    if (!subscribed.ok) throw new Error(`webhook subscription handshake failed: ${await subscribed.text()}`);

    return { credentials, ports, simulatorUrl, webhookUrl, tenantsFile, processes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
