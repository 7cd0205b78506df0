/**
 * `npm start`: runs the whole platform locally (nats-server, WhatsApp simulator, the five services on SQLite),
 * prints the demo credentials, sends one demo message and shows its statuses. Ctrl-C stops everything.
 * Options: --no-demo; --regions eu,us runs a full stack per region side by side (eu on the documented ports, us 100
 * above; one shared simulator), each with its demo tenant. Environment: WAYGATE_DATA_DIR (default .data), WAYGATE_DEV_API_KEY,
 * WAYGATE_DEV_PHONE_NUMBER_ID, WAYGATE_DEV_APP_SECRET, WAYGATE_DEV_NATS_PORT, WAYGATE_DEV_SIMULATOR_PORT,
 * WAYGATE_DEV_WEBHOOK_PORT.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { messageStatusToJSON } from '@waygate/proto';
import { formatRunningBanner } from './banner';
import { sendDemoMessage, sendDemoTemplate } from './demo-message';
import { formatLogLine } from './log-format';
import { DEFAULT_PORTS, SERVICES, startLocalStack, type LocalStack, type Region, type StackPorts } from './stack';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name}: must be a port number 1-65535 (got "${raw}")`);
    process.exit(2);
  }
  return port;
}

/** `--regions eu,us` (or `--regions=eu`); default eu alone. */
function regionsFromArgs(argv: readonly string[]): Region[] {
  const index = argv.findIndex((arg) => arg === '--regions' || arg.startsWith('--regions='));
  if (index === -1) return ['eu'];
  const arg = argv[index] as string;
  const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[index + 1] ?? '');
  const regions = raw.split(',').map((region) => region.trim());
  const bad = regions.filter((region) => region !== 'eu' && region !== 'us');
  if (regions.length === 0 || bad.length > 0 || new Set(regions).size !== regions.length) {
    console.error(`--regions: a comma-separated list of distinct regions out of eu, us (got "${raw}")`);
    process.exit(2);
  }
  return regions as Region[];
}

async function main(): Promise<void> {
  const withDemo = !process.argv.includes('--no-demo');
  const regions = regionsFromArgs(process.argv.slice(2));
  const useColor = Boolean(process.stdout.isTTY);
  const perRegion = ['nats-server', ...SERVICES];
  const names =
    regions.length === 1
      ? ['nats-server', 'whatsapp-simulator', ...SERVICES]
      : ['whatsapp-simulator', ...regions.flatMap((region) => perRegion.map((name) => `${region}/${name}`))];
  const ports: StackPorts = {
    ...DEFAULT_PORTS,
    nats: portFromEnv('WAYGATE_DEV_NATS_PORT', DEFAULT_PORTS.nats),
    simulator: portFromEnv('WAYGATE_DEV_SIMULATOR_PORT', DEFAULT_PORTS.simulator),
    webhook: portFromEnv('WAYGATE_DEV_WEBHOOK_PORT', DEFAULT_PORTS.webhook),
  };
  // Signals are handled from the start: Ctrl-C while starting stops the children already running (they run in their
  // own process group, so the terminal's Ctrl-C reaches only this runner) instead of leaving them behind.
  const starting = new AbortController();
  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    if (!stack) {
      console.log('\nStopping what has started ...');
      starting.abort();
      return;
    }
    console.log('\nStopping (services drain in-flight work first) ...');
    stack.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  console.log(
    `Starting Waygate locally (${regions.length === 1 ? `region ${regions[0]}` : `regions ${regions.join(', ')}`}): nats-server, WhatsApp simulator, ingress, delivery-retry, receipt, media-store, archive ...`,
  );
  try {
    stack = await startLocalStack({
      dataDir: process.env.WAYGATE_DATA_DIR ?? '.data',
      ports,
      regions,
      onLine: (name, line) => console.log(formatLogLine(name, line, names.indexOf(name), useColor)),
      signal: starting.signal,
    });
  } catch (error) {
    if (starting.signal.aborted) {
      console.log('Stopped.');
      process.exit(130);
    }
    throw error;
  }
  if (stopping) return;

  const running = stack;
  for (const region of running.regions.values()) {
    console.log(
      formatRunningBanner({
        region: region.region,
        ports: region.ports,
        credentials: running.credentials,
        tenant: region.tenant,
        otherRegions: regions.filter((other) => other !== region.region),
        webhookUrl: region.webhookUrl,
        simulatorUrl: running.simulatorUrl,
      }),
    );
  }
  if (!withDemo) return;
  for (const region of running.regions.values()) {
    const message = await sendDemoMessage({
      address: `127.0.0.1:${region.ports.grpc.ingress}`,
      apiKey: region.tenant.apiKey,
      simulatorUrl: running.simulatorUrl,
      phoneNumberId: region.tenant.phoneNumberId,
      onStatus: (status, current) =>
        console.log(`>>> demo message ${current.messageId}${regions.length > 1 ? ` (${region.region})` : ''}: ${status}`),
    });
    console.log(
      `>>> demo message timeline: ${message.timeline.map((entry) => `${messageStatusToJSON(entry.status).replace('MESSAGE_STATUS_', '')}@${entry.occurredAt?.toISOString()} (${entry.source})`).join(' -> ')}`,
    );
  }
  // A business-initiated notification: the order_update template to a customer who never wrote.
  for (const region of running.regions.values()) {
    await sendDemoTemplate({
      address: `127.0.0.1:${region.ports.grpc.ingress}`,
      apiKey: region.tenant.apiKey,
      onStatus: (status, current) =>
        console.log(`>>> demo template ${current.messageId} (order_update)${regions.length > 1 ? ` (${region.region})` : ''}: ${status}`),
    }).catch((error: unknown) => console.log(`>>> demo template refused: ${(error as ServiceError).details ?? (error as Error).message}`));
  }
}

main().catch((error: unknown) => {
  console.error(`Waygate failed to start: ${(error as Error).message}`);
  process.exit(1);
});
