import path from 'node:path';
import { ConfigError, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';
import { KeyEncryptionKeyConfigError, kekSourceFromEnv, type KekSource } from '@waygate/keyring';
import { feedEnvShape, toFeedConfig, type FeedConfig } from './feed/config';
import { toWebhookIntakeConfig, webhookIntakeEnvShape, type WebhookIntakeConfig } from './webhooks/config';

/** receipt's configuration: what the process shares (region, tenants, NATS, gRPC, storage), then each part's own. */
export interface ReceiptConfig extends ServiceConfig {
  /** Webhook intake: the webhook endpoint, statuses, inbound messages with media and service windows. */
  readonly webhooks: WebhookIntakeConfig;
  /** The tenant feed: event logs, WatchEvents and callbacks. */
  readonly feed: FeedConfig;
  /**
   * The region's KEKs: inbound messages are published sealed under the customer's data key, webhook bodies under
   * short-lived keys, and what arrives sealed (accepted messages for the feed) is opened with the region keyring.
   */
  readonly kek: KekSource;
}

export const DEFAULT_GRPC_PORT = 50052;

/**
 * Reads and validates receipt's configuration once, at startup: one parse of every variable of both parts, so a
 * failure names each bad variable at once.
 */
export function loadReceiptConfig(env: NodeJS.ProcessEnv = process.env): ReceiptConfig {
  const parsed = parseEnv({ ...serviceEnvShape(DEFAULT_GRPC_PORT), ...webhookIntakeEnvShape, ...feedEnvShape }, env);
  if (parsed.WAYGATE_REGION_WEBHOOK_URLS[parsed.WAYGATE_REGION] !== undefined) {
    throw new Error(
      `WAYGATE_REGION_WEBHOOK_URLS: names this region (${parsed.WAYGATE_REGION}); it lists the other regions' receipt webhooks`,
    );
  }
  const base = toServiceConfig('receipt', parsed, env);
  let kek: KekSource;
  try {
    kek = kekSourceFromEnv(
      env,
      base.storage.kind === 'sqlite' ? path.join(path.dirname(base.storage.file), 'keyring.kek') : undefined,
      'when WAYGATE_STORAGE=mongodb (inbound content is sealed at rest under the region keyring)',
    );
  } catch (error) {
    if (error instanceof KeyEncryptionKeyConfigError) throw new ConfigError([error.message]);
    throw error;
  }
  return { ...base, webhooks: toWebhookIntakeConfig(parsed), feed: toFeedConfig(parsed), kek };
}
