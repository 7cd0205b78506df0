import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { JetStreamClient } from 'nats';
import { systemClock } from '@waygate/domain';
import { isSealedPayload, openPayload, openRegionKeyring } from '@waygate/keyring';
import { tenantsYaml } from '@waygate/testing';

/** The one tenant every platform benchmark uses: one business number allowed Meta's highest throughput. */
export const BENCH_TENANT = {
  id: 'bench',
  apiKey: 'bench-api-key-not-secret',
  wabaId: '102290129340398',
  appSecret: 'bench-app-secret',
  verifyToken: 'bench-verify-token',
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '+1 555-000-1000',
  accessToken: 'EAAbenchtoken',
  /** Meta's maximum; the simulator enforces it as 130429. */
  throughputMps: 1000,
} as const;

export const BENCH_REGION = 'eu';

/** The bench tenant's number as the simulator (Meta) knows it. */
export const BENCH_SIMULATOR_NUMBER = {
  id: BENCH_TENANT.phoneNumberId,
  displayPhoneNumber: BENCH_TENANT.displayPhoneNumber,
  accessToken: BENCH_TENANT.accessToken,
  wabaId: BENCH_TENANT.wabaId,
  throughputMps: BENCH_TENANT.throughputMps,
};

/** WAYGATE_TENANTS_FILE content for the bench tenant, homed in BENCH_REGION. */
export function benchTenantsYaml(): string {
  const t = BENCH_TENANT;
  return tenantsYaml([
    {
      id: t.id,
      homeRegion: BENCH_REGION,
      apiKey: t.apiKey,
      wabaId: t.wabaId,
      appSecret: t.appSecret,
      verifyToken: t.verifyToken,
      phoneNumberIds: [t.phoneNumberId],
      accessToken: t.accessToken,
      throughputMps: t.throughputMps,
    },
  ]);
}

/** One region-internal service token per bench run, shared by its services as in a real region. */
const INTERNAL_SERVICE_TOKEN = randomBytes(32).toString('hex');

/** Environment every service gets: region, NATS, tenants, SQLite in the run's temp folder, the internal token. */
export function serviceBaseEnv(options: { natsUrl: string; tenantsFile: string; dataDir: string }): NodeJS.ProcessEnv {
  return {
    WAYGATE_REGION: BENCH_REGION,
    // ingress calls delivery-retry's internal admin API with it; receipt would store inbound media with it.
    WAYGATE_INTERNAL_SERVICE_TOKEN: INTERNAL_SERVICE_TOKEN,
    WAYGATE_NATS_URL: options.natsUrl,
    WAYGATE_TENANTS_FILE: options.tenantsFile,
    WAYGATE_DATA_DIR: options.dataDir,
    WAYGATE_STORAGE: 'sqlite',
    // Production's default level: logging one line per message is part of the cost being measured.
    WAYGATE_LOG_LEVEL: 'info',
  };
}

/**
 * A distinct recipient per message (`+4915` and nine digits), so neither Meta's pair rate nor any per-recipient
 * pacing in the platform shapes the figures, and the simulator's `waId` identifies the message.
 */
export function recipientFor(sequence: number): { to: string; waId: string } {
  const waId = `4915${String(sequence).padStart(9, '0')}`;
  return { to: `+${waId}`, waId };
}

/**
 * Opens events as the platform's consumers do: status events are sealed under the customer's key, with the region
 * keyring whose KEK the bench's services share (the local development file under the run's data dir, created by the
 * first service to start).
 */
export async function benchEventOpener(js: JetStreamClient, dataDir: string): Promise<(data: Uint8Array) => Promise<Uint8Array>> {
  const file = path.join(dataDir, BENCH_REGION, 'keyring.kek');
  const { keyring } = await openRegionKeyring({ js, region: BENCH_REGION, kek: { kind: 'local-file', file }, clock: systemClock });
  return async (data) => (isSealedPayload(data) ? openPayload(keyring, data) : data);
}
