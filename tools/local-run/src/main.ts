/**
 * `npm start`: runs the whole platform locally (nats-server, WhatsApp simulator, the five services on SQLite),
 * prints the demo credentials, sends one demo message and shows its statuses. Ctrl-C stops everything.
 * Options: --no-demo. Environment: WAYGATE_DATA_DIR (default .data), WAYGATE_DEV_API_KEY,
 * WAYGATE_DEV_PHONE_NUMBER_ID, WAYGATE_DEV_APP_SECRET, WAYGATE_DEV_NATS_PORT, WAYGATE_DEV_SIMULATOR_PORT,
 * WAYGATE_DEV_WEBHOOK_PORT.
 */
import { messageStatusToJSON } from '@waygate/proto';
import { formatRunningBanner } from './banner';
import { sendDemoMessage } from './demo-message';
import { formatLogLine } from './log-format';
import { DEFAULT_PORTS, SERVICES, startLocalStack, type LocalStack, type StackPorts } from './stack';

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

async function main(): Promise<void> {
  const withDemo = !process.argv.includes('--no-demo');
  const useColor = Boolean(process.stdout.isTTY);
  const names = ['nats-server', 'whatsapp-simulator', ...SERVICES];
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

  console.log('Starting Waygate locally: nats-server, WhatsApp simulator, ingress, delivery-retry, receipt, media-store, archive ...');
  try {
    stack = await startLocalStack({
      dataDir: process.env.WAYGATE_DATA_DIR ?? '.data',
      ports,
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

  const c = stack.credentials;
  console.log(formatRunningBanner({ region: 'eu', ports, credentials: c, webhookUrl: stack.webhookUrl, simulatorUrl: stack.simulatorUrl }));
  if (!withDemo) return;
  const message = await sendDemoMessage({
    address: `127.0.0.1:${ports.grpc.ingress}`,
    apiKey: c.apiKey,
    simulatorUrl: stack.simulatorUrl,
    onStatus: (status, current) => console.log(`>>> demo message ${current.messageId}: ${status}`),
  });
  console.log(
    `>>> demo message timeline: ${message.timeline.map((entry) => `${messageStatusToJSON(entry.status).replace('MESSAGE_STATUS_', '')}@${entry.occurredAt?.toISOString()} (${entry.source})`).join(' -> ')}`,
  );
}

main().catch((error: unknown) => {
  console.error(`Waygate failed to start: ${(error as Error).message}`);
  process.exit(1);
});
