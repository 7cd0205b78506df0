import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { checkGrpcHealth } from '@waygate/grpc';
import {
  explainNatsServerStartFailure,
  isPortOpen,
  launchProcess,
  natsServerCommand,
  tsxEntryCommand,
  type LaunchedProcess,
  type LaunchOptions,
} from '@waygate/testing';
import { devTenantsYaml, loadDevCredentials, type DevCredentials } from './dev-credentials';

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
  /** Aborts a start under way (Ctrl-C while starting): whatever already runs is stopped, then the start rejects. */
  readonly signal?: AbortSignal;
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

  const launched = new Map<string, LaunchedProcess>();
  const launch = (
    name: string,
    spec: Pick<LaunchOptions, 'command' | 'args' | 'cwd' | 'env' | 'ready' | 'readyTimeoutMs'>,
  ): LaunchedProcess => {
    const child = launchProcess({
      name,
      ...spec,
      output: { onLine: (line) => options.onLine(name, line) },
      stopGraceMs: (SERVICES as readonly string[]).includes(name) ? 15_000 : 5_000,
      // Own process group: a terminal's Ctrl-C reaches only the runner, which then stops children in order.
      detached: true,
    });
    launched.set(name, child);
    return child;
  };

  // Services first (SIGTERM, they drain), then the simulator, then nats-server.
  const stop = async () => {
    await Promise.all(SERVICES.map((name) => launched.get(name)?.stop()));
    for (const name of ['whatsapp-simulator', 'nats-server']) await launched.get(name)?.stop();
  };

  // Every wait of the start ends early when the start is aborted, so the catch below stops what already runs.
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error('start aborted; stopped what had started'));
    if (options.signal?.aborted) fail();
    else options.signal?.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  const unlessAborted = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, aborted]);

  try {
    const nats = launch('nats-server', {
      ...natsServerCommand(ports.nats, path.join(dataDir, 'nats'), env),
      ready: { check: () => isPortOpen(ports.nats) },
      readyTimeoutMs: 15_000,
    });
    await unlessAborted(nats.ready).catch((error: unknown) => {
      throw explainNatsServerStartFailure(error);
    });

    const simulatorUrl = `http://127.0.0.1:${ports.simulator}`;
    const simulatorEntry = tsxEntryCommand('tools/whatsapp-simulator/src/main.ts');
    const simulator = launch('whatsapp-simulator', {
      ...simulatorEntry,
      args: [...simulatorEntry.args, '--port', String(ports.simulator)],
      env: {
        ...env,
        SIMULATOR_APP_SECRET: credentials.appSecret,
        SIMULATOR_PHONE_NUMBER_ID: credentials.phoneNumberId,
        SIMULATOR_ACCESS_TOKEN: credentials.accessToken,
        SIMULATOR_WABA_ID: credentials.wabaId,
        SIMULATOR_DISPLAY_PHONE_NUMBER: credentials.displayPhoneNumber,
      },
      ready: { check: async () => (await fetch(`${simulatorUrl}/_simulator/health`)).ok },
      readyTimeoutMs: 30_000,
    });
    await unlessAborted(simulator.ready);

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
      // The region's internal service token (kept in dev-credentials.json): media for receipt, the admin APIs.
      WAYGATE_INTERNAL_SERVICE_TOKEN: credentials.internalServiceToken,
      WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${ports.grpc['media-store']}`,
      ...options.serviceEnv,
    };
    const services = SERVICES.map((service) =>
      launch(service, {
        ...tsxEntryCommand(`apps/${service}/src/main.ts`),
        env: { ...commonEnv, WAYGATE_GRPC_PORT: String(ports.grpc[service]), OTEL_SERVICE_NAME: service },
        ready: { check: async () => (await checkGrpcHealth(`127.0.0.1:${ports.grpc[service]}`)) === 'SERVING' },
        readyTimeoutMs: 60_000,
      }),
    );
    await unlessAborted(Promise.all(services.map((service) => service.ready)));

    const webhookUrl = `http://127.0.0.1:${ports.webhook}/webhooks/whatsapp`;
    const subscribed = await unlessAborted(
      fetch(`${simulatorUrl}/_simulator/subscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: webhookUrl, verifyToken: credentials.verifyToken }),
      }),
    );
    if (!subscribed.ok) throw new Error(`webhook subscription handshake failed: ${await subscribed.text()}`);

    const processes = new Map([...launched].map(([name, child]) => [name, child.child] as const));
    return { credentials, ports, simulatorUrl, webhookUrl, tenantsFile, processes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
