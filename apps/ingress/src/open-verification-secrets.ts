import type { Clock } from '@waygate/domain';
import { loadOrCreateKeyFile, openRegionKeyring, type Keyring } from '@waygate/keyring';
import type { JetStreamConnection } from '@waygate/nats';
import type { Logger } from '@waygate/telemetry';
import { startSealingKeySweeper } from './adapters/keyring-parameter-sealer';
import type { IngressConfig } from './config';

/** How often sealing keys past their lifetime are destroyed. */
const SWEEP_INTERVAL_MS = 60_000;

/** What verification and code sealing need: the region keyring, the verification secret, and the key sweeper. */
export interface VerificationSecrets {
  readonly keyring: Keyring;
  /** The HMAC key of verification codes (and of authentication messages' request hashes). */
  readonly verificationSecret: () => Buffer;
  /** Stops the sealing-key sweeper. */
  stop(): Promise<void>;
}

/**
 * Opens the region keyring (JetStream key-value bucket shared with media-store and delivery-retry, the region's KEK)
 * and the verification secret; in local development on SQLite both may come from generated files under the data
 * dir (logged as a warning, never the keys). Starts the sweeper that destroys sealing keys past their lifetime.
 */
export async function openVerificationSecrets(deps: {
  config: IngressConfig;
  nats: JetStreamConnection;
  clock: Clock;
  logger: Logger;
}): Promise<VerificationSecrets> {
  const { config, nats, clock, logger } = deps;
  const { keyring, localFile, created } = await openRegionKeyring({ js: nats.js, region: config.region, kek: config.kek, clock });
  if (localFile)
    logger.warn({ key_file: localFile, created }, 'WAYGATE_KEYRING_KEK is not set: using the local development key-encryption key file');
  let secret: Buffer;
  if (config.verificationSecret.kind === 'configured') {
    secret = config.verificationSecret.secret();
  } else {
    const file = config.verificationSecret.file;
    const loaded = loadOrCreateKeyFile(file);
    secret = loaded.key;
    logger.warn(
      { secret_file: file, created: loaded.created },
      'WAYGATE_VERIFICATION_SECRET is not set: using the local development secret file',
    );
  }
  const stopSweeper = startSealingKeySweeper({
    keyring,
    clock,
    intervalMs: SWEEP_INTERVAL_MS,
    onDestroyed: (count) => logger.info({ count }, 'sealing keys past their lifetime destroyed'),
    onError: (error) => logger.warn({ err: error }, 'sealing key sweep failed; will retry'),
  });
  return { keyring, verificationSecret: () => secret, stop: stopSweeper };
}
