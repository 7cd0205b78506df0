import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KeyEncryptionKeyConfigError, kekSourceFromEnv, type KekSource } from '@waygate/keyring';
import {
  ConfigError,
  envSchemas,
  parseEnv,
  serviceEnvShape,
  toServiceConfig,
  toWhatsAppApiConfig,
  whatsappApiEnvShape,
  type ServiceConfig,
  type WhatsAppApiConfig,
} from '@waygate/config';

/** How often the template catalog is read again from Meta in full (webhooks keep it current in between). */
export const DEFAULT_TEMPLATE_SYNC_INTERVAL_MS = 15 * 60 * 1000;

export interface IngressConfig extends ServiceConfig, WhatsAppApiConfig {
  /** How often every WABA's templates are synced from Meta (also at start and on template webhooks). */
  readonly templateSyncIntervalMs: number;
  /** How often the outbox relay looks for messages whose hand-off to JetStream failed. */
  readonly outboxIntervalMs: number;
  /** delivery-retry's gRPC address (host:port), for CancelMessage. */
  readonly deliveryAddress: string;
  /** media-store's gRPC address (host:port), to check media sent by media-store id before accepting it. */
  readonly mediaStoreAddress: string;
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: how ingress authenticates to delivery-retry's internal admin API. Behind a
   * function, so that the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
  /**
   * The region's KEKs: the keyring seals authentication codes (short-lived keys) before a message is stored or
   * published. Required with MongoDB; on SQLite the region's local key file is used when unset.
   */
  readonly kek: KekSource;
  /**
   * The per-region secret verification codes are stored under (HMAC-SHA256): WAYGATE_VERIFICATION_SECRET (at least 32
   * characters) or WAYGATE_VERIFICATION_SECRET_FILE; required with MongoDB, on SQLite a generated local file when unset.
   */
  readonly verificationSecret: VerificationSecretSource;
}

/** Where the verification secret comes from; the secret sits behind a function so the config never prints it. */
export type VerificationSecretSource =
  { readonly kind: 'configured'; readonly secret: () => Buffer } | { readonly kind: 'local-file'; readonly file: string };

/** The shortest verification secret accepted (characters of the variable, or bytes of the file). */
export const MIN_VERIFICATION_SECRET_LENGTH = 32;

export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_DELIVERY_ADDRESS = '127.0.0.1:50055';
export const DEFAULT_MEDIA_STORE_ADDRESS = '127.0.0.1:50053';

/** `host:port` (a DNS name, IPv4 address or bracketed IPv6 address, and a port 1-65535). */
const grpcAddress = (defaultAddress: string) =>
  z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/, 'must be host:port, e.g. delivery-retry:50055')
    .refine((address) => {
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      return port >= 1 && port <= 65535;
    }, 'port must be 1-65535')
    .default(defaultAddress);

/** Reads and validates ingress's configuration once, at startup. */
export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_OUTBOX_INTERVAL_MS: envSchemas.durationMs(5000),
      WAYGATE_TEMPLATE_SYNC_INTERVAL_MS: envSchemas.durationMs(DEFAULT_TEMPLATE_SYNC_INTERVAL_MS),
      ...whatsappApiEnvShape,
      WAYGATE_DELIVERY_ADDRESS: grpcAddress(DEFAULT_DELIVERY_ADDRESS),
      WAYGATE_MEDIA_STORE_ADDRESS: grpcAddress(DEFAULT_MEDIA_STORE_ADDRESS),
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken(
        "the region-internal service token delivery-retry's admin API and media-store accept",
      ),
    },
    env,
  );
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  const base = toServiceConfig('ingress', parsed, env);
  const localDir = base.storage.kind === 'sqlite' ? path.dirname(base.storage.file) : undefined;
  const problems: string[] = [];
  let kek: KekSource | undefined;
  try {
    kek = kekSourceFromEnv(
      env,
      localDir && path.join(localDir, 'keyring.kek'),
      'when WAYGATE_STORAGE=mongodb (authentication codes are sealed under the region keyring)',
    );
  } catch (error) {
    if (!(error instanceof KeyEncryptionKeyConfigError)) throw error;
    problems.push(error.message);
  }
  const verificationSecret = verificationSecretFromEnv(env, localDir, problems);
  if (problems.length > 0 || !kek || !verificationSecret) throw new ConfigError(problems);
  return {
    ...base,
    kek,
    verificationSecret,
    ...toWhatsAppApiConfig(parsed),
    outboxIntervalMs: parsed.WAYGATE_OUTBOX_INTERVAL_MS,
    templateSyncIntervalMs: parsed.WAYGATE_TEMPLATE_SYNC_INTERVAL_MS,
    deliveryAddress: parsed.WAYGATE_DELIVERY_ADDRESS,
    mediaStoreAddress: parsed.WAYGATE_MEDIA_STORE_ADDRESS,
    internalServiceToken: () => token,
  };
}

/** WAYGATE_VERIFICATION_SECRET or _FILE, else (SQLite) the region's local file; adds a problem when neither fits. */
function verificationSecretFromEnv(
  env: NodeJS.ProcessEnv,
  localDir: string | undefined,
  problems: string[],
): VerificationSecretSource | undefined {
  const inline = env.WAYGATE_VERIFICATION_SECRET;
  const file = env.WAYGATE_VERIFICATION_SECRET_FILE;
  const short = `must be at least ${MIN_VERIFICATION_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`;
  if (inline !== undefined && file !== undefined) {
    problems.push('WAYGATE_VERIFICATION_SECRET and WAYGATE_VERIFICATION_SECRET_FILE: set one, not both');
    return undefined;
  }
  if (inline !== undefined) {
    if (inline.trim().length < MIN_VERIFICATION_SECRET_LENGTH) {
      problems.push(`WAYGATE_VERIFICATION_SECRET: ${short}`);
      return undefined;
    }
    const secret = Buffer.from(inline.trim(), 'utf8');
    return { kind: 'configured', secret: () => secret };
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push(`WAYGATE_VERIFICATION_SECRET_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
      return undefined;
    }
    if (text.length < MIN_VERIFICATION_SECRET_LENGTH) {
      problems.push(`WAYGATE_VERIFICATION_SECRET_FILE: ${short}`);
      return undefined;
    }
    const secret = Buffer.from(text, 'utf8');
    return { kind: 'configured', secret: () => secret };
  }
  if (localDir) return { kind: 'local-file', file: path.join(localDir, 'verification.secret') };
  problems.push(
    'WAYGATE_VERIFICATION_SECRET or WAYGATE_VERIFICATION_SECRET_FILE: required when WAYGATE_STORAGE=mongodb (verification codes are stored as HMACs under it)',
  );
  return undefined;
}
