/**
 * CLI: runs the simulator standalone.
 *   npm run simulator -- --port 8090 [--webhook-url URL] [--config simulator.yaml] [--seed N] [--time-scale X] [--start-time ISO] [--open-windows]
 * Without --config, one demo number is served; env (random demo values when absent): SIMULATOR_APP_SECRET,
 * SIMULATOR_PHONE_NUMBER_ID, SIMULATOR_ACCESS_TOKEN, SIMULATOR_WABA_ID, SIMULATOR_DISPLAY_PHONE_NUMBER.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfigFile, type ConfigFileOptions } from './config/config-file';
import { seedTemplates } from './messaging/template-rendering';
import { maskPhoneNumber } from './phone-numbers';
import { startSimulator } from './simulator';
import type { SimulatorEvent } from './types';

const DEFAULT_PORT = 8090;

type LogFields = Record<string, unknown>;

/** One JSON object per line on stdout. */
function log(level: 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
}

function randomDigits(count: number): string {
  return Array.from({ length: count }, () => String(randomInt(0, 10))).join('');
}

/** Shows only the tail of a secret the operator supplied themselves. */
function maskSecret(secret: string): string {
  return `****${secret.slice(-4)}`;
}

/** Webhook URLs may carry credentials in the query string; log only where they point. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

interface CliConfig {
  port: number;
  options: ConfigFileOptions;
  /** Secrets generated for the demo number are printed in full; ones the operator supplied stay masked. */
  generated: { appSecret: boolean; accessToken: boolean };
}

function envOr(name: string, generate: () => string): { value: string; generated: boolean } {
  const value = process.env[name];
  return value === undefined || value === '' ? { value: generate(), generated: true } : { value, generated: false };
}

function demoOptions(): { options: ConfigFileOptions; generated: CliConfig['generated'] } {
  const accessToken = envOr('SIMULATOR_ACCESS_TOKEN', () => `EAAsim${randomBytes(30).toString('base64url')}`);
  const appSecret = envOr('SIMULATOR_APP_SECRET', () => randomBytes(16).toString('hex'));
  const wabaId = envOr('SIMULATOR_WABA_ID', () => `1${randomDigits(14)}`).value;
  return {
    options: {
      appSecret: appSecret.value,
      // The demo WABA has a few templates (named utility, marketing with image and quick reply, two authentication).
      templates: seedTemplates(wabaId),
      phoneNumbers: [
        {
          id: envOr('SIMULATOR_PHONE_NUMBER_ID', () => `1${randomDigits(14)}`).value,
          displayPhoneNumber: envOr('SIMULATOR_DISPLAY_PHONE_NUMBER', () => `1555${randomDigits(7)}`).value,
          accessToken: accessToken.value,
          wabaId,
        },
      ],
    },
    generated: { appSecret: appSecret.generated, accessToken: accessToken.generated },
  };
}

function readConfig(argv: string[]): CliConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'webhook-url': { type: 'string' },
      config: { type: 'string' },
      seed: { type: 'string' },
      'time-scale': { type: 'string' },
      'start-time': { type: 'string' },
      'open-windows': { type: 'boolean' },
    },
    strict: true,
  });
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const startTimeMs = values['start-time'] === undefined ? undefined : Date.parse(values['start-time']);
  // An ISO 8601 time (with its zone) only: a bare number would be ambiguous between seconds and milliseconds.
  if (startTimeMs !== undefined && (!Number.isFinite(startTimeMs) || !/T.*(Z|[+-]\d\d:\d\d)$/.test(values['start-time'] ?? '')))
    throw new Error(`invalid --start-time ${values['start-time']} (an ISO 8601 time with its zone, e.g. 2026-01-01T00:00:00Z)`);
  const base =
    values.config === undefined
      ? demoOptions()
      : { options: loadConfigFile(values.config), generated: { appSecret: false, accessToken: false } };
  const options: ConfigFileOptions = {
    ...base.options,
    ...(values['webhook-url'] === undefined ? {} : { webhookUrl: values['webhook-url'] }),
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    ...(values['time-scale'] === undefined ? {} : { timeScale: Number(values['time-scale']) }),
    ...(startTimeMs === undefined ? {} : { startTimeMs }),
    ...(values['open-windows'] === true ? { enforceCustomerServiceWindow: false } : {}),
  };
  return { port, options, generated: base.generated };
}

/** Log-safe view of an event: phone numbers masked, URLs without query strings. */
function eventLogFields(event: SimulatorEvent): LogFields {
  switch (event.type) {
    case 'message_accepted':
    case 'status_emitted':
    case 'recipient_updated':
    case 'inbound_message':
      return { ...event, waId: maskPhoneNumber(event.waId) };
    case 'webhook_attempt':
    case 'webhook_url_changed':
      return { ...event, url: describeUrl(event.url) };
    default:
      return { ...event };
  }
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2));
  // The handlers come before the simulator starts and announces itself: whoever reads "simulator started" may stop
  // it at once, and without a handler by then SIGTERM's default action would kill it instead of stopping it cleanly.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log('warn', 'second signal, exiting immediately', { signal });
      process.exit(1);
    }
    stopping = true;
    log('info', 'stopping', { signal });
    started.then(
      (simulator) =>
        simulator.stop().then(
          () => {
            log('info', 'stopped');
            process.exit(0);
          },
          (error: unknown) => {
            log('error', 'stop failed', { error: (error as Error).message });
            process.exit(1);
          },
        ),
      // A simulator that failed to start exits on its own (below).
      () => undefined,
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const started = startSimulator({
    ...config.options,
    port: config.port,
    onEvent: (event) => {
      const { type, ...fields } = eventLogFields(event);
      log('info', String(type), fields);
    },
  });
  const simulator = await started;
  // Generated demo credentials are printed once so they can be pasted into the app under test;
  // credentials the operator supplied are theirs already and stay masked.
  log('info', 'simulator started', {
    url: simulator.url,
    appSecret: config.generated.appSecret ? config.options.appSecret : maskSecret(config.options.appSecret),
    phoneNumbers: config.options.phoneNumbers.map((phone) => ({
      phoneNumberId: phone.id,
      wabaId: phone.wabaId,
      displayPhoneNumber: maskPhoneNumber(phone.displayPhoneNumber),
      accessToken: config.generated.accessToken ? phone.accessToken : maskSecret(phone.accessToken),
      sendEndpoint: `${simulator.url}/v23.0/${phone.id}/messages`,
    })),
    templates: (config.options.templates ?? []).map((template) => `${template.name}/${template.language}`),
    webhookUrl: config.options.webhookUrl === undefined ? null : describeUrl(config.options.webhookUrl),
    clock: { now: new Date(simulator.now()).toISOString(), scale: config.options.timeScale ?? 1 },
    customerServiceWindow: config.options.enforceCustomerServiceWindow === false ? 'always open' : 'enforced',
    controlApi: `${simulator.url}/_simulator/`,
  });
}

main().catch((error: unknown) => {
  log('error', 'simulator failed to start', { error: (error as Error).message });
  process.exit(1);
});
