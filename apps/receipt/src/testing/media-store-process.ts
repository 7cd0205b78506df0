import { startServiceProcess, type ServiceProcess } from '@waygate/testing';

/** A real media-store, started as its own process (apps may not import each other, so not in-process). */
export interface MediaStoreProcess {
  readonly address: string;
  /** SIGTERM, and wait for it to exit; rejects unless it drained and exited 0. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: whatever it was doing stops there (calls in flight fail, nothing is cleaned up). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (e.g. after `stop`, to end an outage). */
  start(): Promise<void>;
}

/**
 * Starts `apps/media-store/src/main.ts` on `port` with a SQLite store under `dataDir` (through the shared launcher of
 * @waygate/testing); resolves once it is listening.
 */
export async function startMediaStoreProcess(options: {
  port: number;
  tenantsFile: string;
  dataDir: string;
  internalServiceToken: string;
  /** media-store keeps its keyring (wrapped data keys) in a JetStream key-value bucket. */
  natsUrl: string;
  /** The region's KEK (every service of a region shares it: they share the keyring bucket); else its own dev file. */
  kek?: Buffer;
}): Promise<MediaStoreProcess> {
  const env = {
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: options.tenantsFile,
    WAYGATE_DATA_DIR: options.dataDir,
    WAYGATE_GRPC_PORT: String(options.port),
    WAYGATE_INTERNAL_SERVICE_TOKEN: options.internalServiceToken,
    WAYGATE_NATS_URL: options.natsUrl,
    ...(options.kek ? { WAYGATE_KEYRING_KEK: options.kek.toString('base64') } : {}),
  };
  let running: ServiceProcess | undefined;
  const start = async (): Promise<void> => {
    running = await startServiceProcess('media-store', env);
  };

  await start();
  return {
    address: `127.0.0.1:${options.port}`,
    start,
    async kill() {
      if (!running) return;
      const killed = running;
      running = undefined;
      await killed.stop('SIGKILL');
    },
    async stop() {
      if (!running) return;
      const stopped = running;
      const exit = await stopped.stop('SIGTERM');
      if (exit.code !== 0) {
        throw new Error(`media-store did not stop cleanly (${JSON.stringify(exit)}):\n${stopped.outputTail()}`);
      }
    },
  };
}
