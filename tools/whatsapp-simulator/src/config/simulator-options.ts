import { DEFAULT_STATUS_DELAY_MS } from '../messaging/status-lifecycle';
import { DEFAULT_PAIR_RATE_LIMIT, DEFAULT_THROUGHPUT_MPS, MAX_THROUGHPUT_MPS, type PairRateLimit } from '../messaging/send-rate-limits';
import { parseSimulatorTemplates } from '../messaging/template-registry';
import { SimulatorInputError } from '../simulator-input-error';
import { MAX_TIME_SCALE } from '../time/simulated-clock';
import type { SimulatorOptions, SimulatorPhoneNumber, SimulatorTemplate, WebhookRetryPolicy } from '../types';
import { DEFAULT_WEBHOOK_BATCH_SIZE, DEFAULT_WEBHOOK_RETRY_POLICY } from '../webhooks/webhook-dispatcher';
import { assertWebhookUrl } from '../webhooks/subscription-handshake';

/** Options with every default applied, checked once at start. */
export interface ResolvedSimulatorOptions {
  port: number;
  appSecret: string;
  phoneNumbers: (SimulatorPhoneNumber & { throughputMps: number })[];
  appSecretsByWaba: ReadonlyMap<string, string>;
  templates: SimulatorTemplate[];
  webhookUrl: string | undefined;
  statusDelayMs: number;
  seed: number | undefined;
  startTimeMs: number | undefined;
  timeScale: number;
  enforceCustomerServiceWindow: boolean;
  pairRateLimit: PairRateLimit | false;
  webhookRetry: WebhookRetryPolicy;
  webhookBatchSize: number;
}

function assertNonEmptyString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new SimulatorInputError(`${what} must be a non-empty string`);
}

function assertNumberInRange(value: unknown, what: string, min: number, max: number, integer = false): asserts value is number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) throw new SimulatorInputError(`${what} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
}

function resolvePhoneNumbers(options: SimulatorOptions): ResolvedSimulatorOptions['phoneNumbers'] {
  if (!Array.isArray(options.phoneNumbers) || options.phoneNumbers.length === 0) {
    throw new SimulatorInputError('phoneNumbers must list at least one phone number');
  }
  const ids = new Set<string>();
  return options.phoneNumbers.map((phone, index) => {
    for (const field of ['id', 'displayPhoneNumber', 'accessToken', 'wabaId'] as const) {
      assertNonEmptyString(phone[field], `phoneNumbers[${index}].${field}`);
    }
    if (ids.has(phone.id)) throw new SimulatorInputError(`phone number id ${phone.id} is listed twice`);
    ids.add(phone.id);
    const throughputMps = phone.throughputMps ?? DEFAULT_THROUGHPUT_MPS;
    assertNumberInRange(throughputMps, `phoneNumbers[${index}].throughputMps`, 1, MAX_THROUGHPUT_MPS, true);
    return { ...phone, throughputMps };
  });
}

function resolveAppSecrets(options: SimulatorOptions, knownWabas: ReadonlySet<string>): Map<string, string> {
  const secrets = new Map<string, string>();
  (options.wabas ?? []).forEach((waba, index) => {
    assertNonEmptyString(waba.id, `wabas[${index}].id`);
    if (!knownWabas.has(waba.id)) throw new SimulatorInputError(`wabas[${index}].id ${waba.id} has no phone number`);
    if (waba.appSecret !== undefined) {
      assertNonEmptyString(waba.appSecret, `wabas[${index}].appSecret`);
      secrets.set(waba.id, waba.appSecret);
    }
  });
  return secrets;
}

function resolvePairRateLimit(value: SimulatorOptions['pairRateLimit']): PairRateLimit | false {
  if (value === false) return false;
  const limit = value ?? DEFAULT_PAIR_RATE_LIMIT;
  assertNumberInRange(limit.burst, 'pairRateLimit.burst', 1, 1_000_000, true);
  assertNumberInRange(limit.intervalMs, 'pairRateLimit.intervalMs', 0, Number.MAX_SAFE_INTEGER);
  return { burst: limit.burst, intervalMs: limit.intervalMs };
}

function resolveWebhookRetry(value: SimulatorOptions['webhookRetry']): WebhookRetryPolicy {
  const policy = { ...DEFAULT_WEBHOOK_RETRY_POLICY, ...value };
  assertNumberInRange(policy.initialDelayMs, 'webhookRetry.initialDelayMs', 1, Number.MAX_SAFE_INTEGER);
  assertNumberInRange(policy.maxDelayMs, 'webhookRetry.maxDelayMs', policy.initialDelayMs, Number.MAX_SAFE_INTEGER);
  assertNumberInRange(policy.maxAgeMs, 'webhookRetry.maxAgeMs', 0, Number.MAX_SAFE_INTEGER);
  return policy;
}

/** Validates options and applies defaults; throws {@link SimulatorInputError} naming the bad option. */
export function resolveSimulatorOptions(options: SimulatorOptions): ResolvedSimulatorOptions {
  assertNonEmptyString(options.appSecret, 'appSecret');
  const phoneNumbers = resolvePhoneNumbers(options);
  const knownWabas = new Set(phoneNumbers.map((phone) => phone.wabaId));
  const templates = parseSimulatorTemplates(options.templates ?? []);
  templates.forEach((template, index) => {
    if (!knownWabas.has(template.wabaId))
      throw new SimulatorInputError(`templates[${index}].wabaId ${template.wabaId} has no phone number`);
  });
  const port = options.port ?? 0;
  assertNumberInRange(port, 'port', 0, 65535, true);
  const statusDelayMs = options.statusDelayMs ?? DEFAULT_STATUS_DELAY_MS;
  assertNumberInRange(statusDelayMs, 'statusDelayMs', 0, Number.MAX_SAFE_INTEGER);
  const timeScale = options.timeScale ?? 1;
  assertNumberInRange(timeScale, 'timeScale', 0, MAX_TIME_SCALE);
  if (options.startTimeMs !== undefined) assertNumberInRange(options.startTimeMs, 'startTimeMs', 0, Number.MAX_SAFE_INTEGER, true);
  if (options.seed !== undefined) assertNumberInRange(options.seed, 'seed', 0, Number.MAX_SAFE_INTEGER, true);
  const webhookBatchSize = options.webhookBatchSize ?? DEFAULT_WEBHOOK_BATCH_SIZE;
  assertNumberInRange(webhookBatchSize, 'webhookBatchSize', 1, 1_000, true);
  if (options.webhookUrl !== undefined) assertWebhookUrl(options.webhookUrl);
  return {
    port,
    appSecret: options.appSecret,
    phoneNumbers,
    appSecretsByWaba: resolveAppSecrets(options, knownWabas),
    templates,
    webhookUrl: options.webhookUrl,
    statusDelayMs,
    seed: options.seed,
    startTimeMs: options.startTimeMs,
    timeScale,
    enforceCustomerServiceWindow: options.enforceCustomerServiceWindow ?? true,
    pairRateLimit: resolvePairRateLimit(options.pairRateLimit),
    webhookRetry: resolveWebhookRetry(options.webhookRetry),
    webhookBatchSize,
  };
}
