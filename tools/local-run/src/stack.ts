import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { checkGrpcHealth } from '@waygate/grpc';
import {
  explainNatsServerStartFailure,
  freePort,
  isPortOpen,
  launchProcess,
  natsServerCommand,
  tsxEntryCommand,
  type LaunchedProcess,
  type LaunchOptions,
} from '@waygate/testing';
import { seedTemplates } from '@waygate/whatsapp-simulator';
import { devTenantsYaml, loadDevCredentials, regionDemoTenant, type DevCredentials, type RegionDemoTenant } from './dev-credentials';

/** The five services, in start order (consumers before producers is not needed: streams are durable). */
export const SERVICES = ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Where everything listens; defaults are the documented local ports. */
export interface StackPorts {
  readonly nats: number;
  readonly simulator: number;
  readonly webhook: number;
  readonly grpc: Readonly<Record<ServiceName, number>>;
  /** Each service's Prometheus `/metrics` port; without it (tests) each picks a free one. */
  readonly metrics?: Readonly<Record<ServiceName, number>>;
}

export const DEFAULT_PORTS: StackPorts = {
  nats: 4222,
  simulator: 8090,
  webhook: 8080,
  grpc: { ingress: 50051, receipt: 50052, 'media-store': 50053, archive: 50054, 'delivery-retry': 50055 },
  metrics: { ingress: 9461, receipt: 9462, 'media-store': 9463, archive: 9464, 'delivery-retry': 9465 },
};

/** A region a local stack can serve. */
export type Region = 'eu' | 'us';

/**
 * Each region's block of ports relative to DEFAULT_PORTS (`npm start -- --regions eu,us`): eu on the documented
 * ports, us 100 above each (nats 4322, webhook 8180, gRPC 50151-50155). The simulator is shared: it is Meta.
 */
export const REGION_PORT_OFFSET: Readonly<Record<Region, number>> = { eu: 0, us: 100 };

/** `ports` shifted to `region`'s block (the simulator's port stays: one Meta for every region). */
export function regionPorts(ports: StackPorts, region: Region): StackPorts {
  const offset = REGION_PORT_OFFSET[region];
  const grpc = Object.fromEntries(SERVICES.map((service) => [service, ports.grpc[service] + offset])) as Record<ServiceName, number>;
  const metrics = ports.metrics
    ? (Object.fromEntries(SERVICES.map((service) => [service, (ports.metrics as Record<ServiceName, number>)[service] + offset])) as Record<
        ServiceName,
        number
      >)
    : undefined;
  return { nats: ports.nats + offset, simulator: ports.simulator, webhook: ports.webhook + offset, grpc, ...(metrics ? { metrics } : {}) };
}

/**
 * Where a region's nats-server keeps its JetStream store: `<dataDir>/nats` for eu (where the single-region stack
 * always kept it), `<dataDir>/<region>/nats` for the others. Everything else of a region is in `<dataDir>/<region>/`.
 */
export function regionNatsStoreDir(dataDir: string, region: Region): string {
  return region === 'eu' ? path.join(dataDir, 'nats') : path.join(dataDir, region, 'nats');
}

export interface StackOptions {
  readonly dataDir: string;
  /** The single region to run (default eu); ignored when `regions` is given. */
  readonly region?: Region;
  /** Regions to run side by side, each a full stack with its own nats-server, data and ports (default: `region`). */
  readonly regions?: readonly Region[];
  /** The eu block (DEFAULT_PORTS); other regions are shifted by REGION_PORT_OFFSET unless `regionPorts` names theirs. */
  readonly ports?: StackPorts;
  /** Ports of a region, overriding the shifted block (tests use free ports). */
  readonly regionPorts?: Partial<Record<Region, StackPorts>>;
  /** Receives every output line of every child process (named `<region>/<process>` when several regions run). */
  readonly onLine: (processName: string, line: string) => void;
  /** Extra environment for the services (e.g. WAYGATE_TRACE_FILE, WAYGATE_LOG_LEVEL). */
  readonly serviceEnv?: NodeJS.ProcessEnv;
  readonly env?: NodeJS.ProcessEnv;
  /** Extra arguments for the WhatsApp simulator's CLI (tests: `--start-time`, `--time-scale`). */
  readonly simulatorArgs?: readonly string[];
  /** Rewrites the generated tenants file before it is written (tests add a tenant's settings, e.g. `archive`). */
  readonly tenantsYaml?: (generated: string) => string;
  /** Aborts a start under way (Ctrl-C while starting): whatever already runs is stopped, then the start rejects. */
  readonly signal?: AbortSignal;
}

/** One region's running stack. */
export interface RegionStack {
  readonly region: Region;
  /** Its seeded demo tenant. */
  readonly tenant: RegionDemoTenant;
  readonly ports: StackPorts;
  readonly webhookUrl: string;
  /** `<dataDir>/<region>`: its SQLite files, media key and (but for eu) its JetStream store. */
  readonly dataDir: string;
  readonly natsStoreDir: string;
  /** The name a process of this region has in `processes` and `onLine`. */
  processName(process: string): string;
}

export interface LocalStack {
  readonly credentials: DevCredentials;
  /** The first region's ports and webhook URL. */
  readonly ports: StackPorts;
  readonly simulatorUrl: string;
  readonly webhookUrl: string;
  readonly tenantsFile: string;
  readonly regions: ReadonlyMap<Region, RegionStack>;
  /** Running child processes by name (nats-server, whatsapp-simulator and the five services, per region). */
  readonly processes: ReadonlyMap<string, ChildProcess>;
  /** Stops services (SIGTERM, they drain), then the simulator, then the nats-servers. */
  stop(): Promise<void>;
}

function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', () => reject(new Error(`port ${port} for ${what} is in use; stop whatever uses it or set ${variable}`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** The simulator's seeded templates for a WABA, as a config file's `templates` (JSON is YAML). */
function templatesYaml(wabaId: string): string {
  return JSON.stringify(seedTemplates(wabaId).map(({ wabaId: _waba, ...template }) => template));
}

/** The simulator's config with every region's demo WABA (each with its own app secret, number and templates). */
function simulatorConfigYaml(tenants: readonly RegionDemoTenant[]): string {
  return `# Generated by the local runner: the demo WABAs of every region, on one simulated Meta.
appSecret: "${tenants[0]?.appSecret ?? ''}"
wabas:
${tenants
  .map(
    (t) => `  - id: "${t.wabaId}"
    appSecret: "${t.appSecret}"
    phoneNumbers:
      - { id: "${t.phoneNumberId}", displayPhoneNumber: "${t.displayPhoneNumber}", accessToken: "${t.accessToken}" }
    templates: ${templatesYaml(t.wabaId)}
`,
  )
  .join('')}`;
}

/**
 * Starts the whole platform locally as real child processes: per region a nats-server (JetStream in the region's
 * data folder) and the five services on the embedded SQLite store; one WhatsApp simulator shared by the regions (it
 * is Meta), with seeded demo tenants. Resolves once every gRPC server reports SERVING and the simulator completed
 * Meta's webhook subscription handshake with each region's receipt: the first region's webhook is the app's
 * callback URL, every other region's the override URL of its tenant's WABA (as Meta's `override_callback_uri`).
 */
export async function startLocalStack(options: StackOptions): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const basePorts = options.ports ?? DEFAULT_PORTS;
  const regions = [...new Set(options.regions ?? [options.region ?? 'eu'])];
  const [firstRegion] = regions;
  if (firstRegion === undefined) throw new Error('no region to run');
  const several = regions.length > 1;
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const credentials = loadDevCredentials(dataDir, env);
  const tenantsFile = path.join(dataDir, 'tenants.yaml');
  const generatedTenants = devTenantsYaml(credentials);
  writeFileSync(tenantsFile, options.tenantsYaml ? options.tenantsYaml(generatedTenants) : generatedTenants, { mode: 0o600 });

  const stacks = new Map<Region, RegionStack>(
    regions.map((region) => {
      const ports = options.regionPorts?.[region] ?? regionPorts(basePorts, region);
      const stack: RegionStack = {
        region,
        tenant: regionDemoTenant(credentials, region),
        ports: { ...ports, simulator: basePorts.simulator },
        webhookUrl: `http://127.0.0.1:${ports.webhook}/webhooks/whatsapp`,
        dataDir: path.join(dataDir, region),
        natsStoreDir: regionNatsStoreDir(dataDir, region),
        processName: (name) => (several ? `${region}/${name}` : name),
      };
      return [region, stack] as const;
    }),
  );
  const first = stacks.get(firstRegion) as RegionStack;

  await assertPortFree(basePorts.simulator, 'the WhatsApp simulator', 'WAYGATE_DEV_SIMULATOR_PORT');
  for (const stack of stacks.values()) {
    const where = several ? ` (${stack.region})` : '';
    await assertPortFree(stack.ports.nats, `nats-server${where}`, 'WAYGATE_DEV_NATS_PORT');
    await assertPortFree(stack.ports.webhook, `the receipt webhook${where}`, 'WAYGATE_DEV_WEBHOOK_PORT');
    for (const service of SERVICES)
      await assertPortFree(stack.ports.grpc[service], `${service}${where}`, 'the WAYGATE_DEV_*_PORT variables');
  }

  const launched = new Map<string, LaunchedProcess>();
  const launch = (
    name: string,
    spec: Pick<LaunchOptions, 'command' | 'args' | 'cwd' | 'env' | 'ready' | 'readyTimeoutMs'>,
    isService = false,
  ): LaunchedProcess => {
    const child = launchProcess({
      name,
      ...spec,
      output: { onLine: (line) => options.onLine(name, line) },
      stopGraceMs: isService ? 15_000 : 5_000,
      // Own process group: a terminal's Ctrl-C reaches only the runner, which then stops children in order.
      detached: true,
    });
    launched.set(name, child);
    return child;
  };

  // Services first (SIGTERM, they drain), then the simulator, then the nats-servers.
  const stop = async () => {
    const all = [...stacks.values()];
    await Promise.all(all.flatMap((stack) => SERVICES.map((service) => launched.get(stack.processName(service))?.stop())));
    await launched.get('whatsapp-simulator')?.stop();
    await Promise.all(all.map((stack) => launched.get(stack.processName('nats-server'))?.stop()));
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
    for (const stack of stacks.values()) {
      mkdirSync(stack.natsStoreDir, { recursive: true });
      const nats = launch(stack.processName('nats-server'), {
        ...natsServerCommand(stack.ports.nats, stack.natsStoreDir, env),
        ready: { check: () => isPortOpen(stack.ports.nats) },
        readyTimeoutMs: 15_000,
      });
      await unlessAborted(nats.ready).catch((error: unknown) => {
        throw explainNatsServerStartFailure(error);
      });
    }

    const simulatorUrl = `http://127.0.0.1:${basePorts.simulator}`;
    const simulatorEntry = tsxEntryCommand('tools/whatsapp-simulator/src/main.ts');
    let simulatorArgs = [...simulatorEntry.args, '--port', String(basePorts.simulator), ...(options.simulatorArgs ?? [])];
    if (several) {
      const configFile = path.join(dataDir, 'simulator.yaml');
      writeFileSync(configFile, simulatorConfigYaml([...stacks.values()].map((stack) => stack.tenant)), { mode: 0o600 });
      simulatorArgs = [...simulatorArgs, '--config', configFile];
    }
    const simulator = launch('whatsapp-simulator', {
      ...simulatorEntry,
      args: simulatorArgs,
      env: several
        ? env
        : {
            ...env,
            SIMULATOR_APP_SECRET: first.tenant.appSecret,
            SIMULATOR_PHONE_NUMBER_ID: first.tenant.phoneNumberId,
            SIMULATOR_ACCESS_TOKEN: first.tenant.accessToken,
            SIMULATOR_WABA_ID: first.tenant.wabaId,
            SIMULATOR_DISPLAY_PHONE_NUMBER: first.tenant.displayPhoneNumber,
          },
      ready: { check: async () => (await fetch(`${simulatorUrl}/_simulator/health`)).ok },
      readyTimeoutMs: 30_000,
    });
    await unlessAborted(simulator.ready);

    const services: LaunchedProcess[] = [];
    for (const stack of stacks.values()) {
      const { ports } = stack;
      // Template and account webhooks always reach the app's URL; receipt forwards those of other regions' WABAs.
      const otherRegions = [...stacks.values()].filter((other) => other.region !== stack.region);
      const commonEnv: NodeJS.ProcessEnv = {
        ...env,
        WAYGATE_REGION: stack.region,
        WAYGATE_NATS_URL: `nats://127.0.0.1:${ports.nats}`,
        WAYGATE_TENANTS_FILE: tenantsFile,
        WAYGATE_DATA_DIR: dataDir,
        WAYGATE_STORAGE: 'sqlite',
        WAYGATE_WHATSAPP_API_BASE_URL: simulatorUrl,
        WAYGATE_HTTP_PORT: String(ports.webhook),
        WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${ports.grpc['delivery-retry']}`,
        // The region's internal service token (kept in dev-credentials.json): media for receipt, the admin APIs.
        WAYGATE_INTERNAL_SERVICE_TOKEN: stack.tenant.internalServiceToken,
        WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${ports.grpc['media-store']}`,
        // One-minute webhook body keys (production default: 15 minutes), so an erasure tried locally completes in about
        // a minute and a half (receipt's part waits until the bodies queued before it are shredded; docs/governance.md).
        WAYGATE_WEBHOOK_KEY_EPOCH_MS: '60000',
        ...(otherRegions.length === 0
          ? {}
          : { WAYGATE_REGION_WEBHOOK_URLS: JSON.stringify(Object.fromEntries(otherRegions.map((o) => [o.region, o.webhookUrl]))) }),
        ...options.serviceEnv,
      };
      for (const service of SERVICES) {
        services.push(
          launch(
            stack.processName(service),
            {
              ...tsxEntryCommand(`apps/${service}/src/main.ts`),
              env: {
                ...commonEnv,
                WAYGATE_GRPC_PORT: String(ports.grpc[service]),
                // The documented metrics ports (a free one per service when the ports name none, as in tests).
                WAYGATE_METRICS_PORT: String(ports.metrics?.[service] ?? 0),
                OTEL_SERVICE_NAME: service,
              },
              ready: { check: async () => (await checkGrpcHealth(`127.0.0.1:${ports.grpc[service]}`)) === 'SERVING' },
              readyTimeoutMs: 60_000,
            },
            true,
          ),
        );
      }
    }
    await unlessAborted(Promise.all(services.map((service) => service.ready)));

    for (const stack of stacks.values()) {
      const subscribed = await unlessAborted(
        fetch(`${simulatorUrl}/_simulator/subscribe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            url: stack.webhookUrl,
            verifyToken: stack.tenant.verifyToken,
            ...(stack === first ? {} : { wabaId: stack.tenant.wabaId }),
          }),
        }),
      );
      if (!subscribed.ok) throw new Error(`webhook subscription handshake (${stack.region}) failed: ${await subscribed.text()}`);
    }

    const processes = new Map([...launched].map(([name, child]) => [name, child.child] as const));
    return {
      credentials,
      ports: first.ports,
      simulatorUrl,
      webhookUrl: first.webhookUrl,
      tenantsFile,
      regions: stacks,
      processes,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A StackPorts of free loopback ports (freePort each), for tests that start a whole stack beside others. */
export async function freeStackPorts(): Promise<StackPorts> {
  return {
    nats: await freePort(),
    simulator: await freePort(),
    webhook: await freePort(),
    grpc: {
      ingress: await freePort(),
      receipt: await freePort(),
      'media-store': await freePort(),
      archive: await freePort(),
      'delivery-retry': await freePort(),
    },
  };
}
