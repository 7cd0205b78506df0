import type { Logger } from '@waygate/telemetry';
import type { ServingStatus } from './health-probes';
import type { Telemetry } from './start-telemetry';

/** A started service: `stop` drains in-flight work and releases everything it opened. */
export interface StartedService {
  stop(): Promise<void>;
  /**
   * The overall status its gRPC health service reports (SERVING from start, NOT_SERVING once draining); the
   * metrics port's plaintext `GET /readyz` mirrors it, for probes that cannot speak the gRPC port's TLS.
   */
  readonly servingStatus?: () => ServingStatus;
}

/**
 * Runs a service until SIGINT/SIGTERM, then stops it (draining in-flight work) and flushes telemetry. A failure to
 * start (e.g. invalid configuration) is logged with its message and exits 1; a second signal forces exit.
 *
 * The signal handlers are installed before `start` runs: a service announces readiness ("<service> listening")
 * inside `start`, and whoever reads that line may stop it at once. Without a handler by then, SIGTERM's default
 * action would kill it without draining. A signal that arrives while it is still starting stops it once started.
 */
/** Most time an exit waits for the logger's asynchronous writes (stdout blocked by a stuck reader must not hang it). */
const LOG_FLUSH_TIMEOUT_MS = 1000;

/**
 * Exits once the logger's pending lines are written: the logger writes stdout asynchronously, and pino's synchronous
 * flush at `exit` would write the last lines ahead of one still in flight (out of order).
 */
function exitAfterLogs(logger: Logger, code: number): void {
  const timer = setTimeout(() => process.exit(code), LOG_FLUSH_TIMEOUT_MS);
  try {
    logger.flush(() => {
      clearTimeout(timer);
      process.exit(code);
    });
  } catch {
    // A destination that cannot flush (already closed): exit now.
    clearTimeout(timer);
    process.exit(code);
  }
}

export function runService(options: { logger: Logger; telemetry: Telemetry; start: () => Promise<StartedService> }): void {
  const { logger, telemetry } = options;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      exitAfterLogs(logger, 130);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'draining and stopping');
    started.then(
      (service) =>
        service
          .stop()
          .then(() => telemetry.shutdown())
          .then(
            () => {
              logger.info('stopped');
              exitAfterLogs(logger, 0);
            },
            (error: unknown) => {
              logger.error({ err: error }, 'error while stopping');
              exitAfterLogs(logger, 1);
            },
          ),
      // A start that failed exits on its own (below).
      () => undefined,
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  // Through a promise, so that a `start` that throws at once is a failed start too.
  const started = Promise.resolve().then(options.start);
  started.then(
    (service) => {
      if (service.servingStatus) telemetry.followReadiness(service.servingStatus);
    },
    () => undefined,
  );
  started.catch((error: unknown) => {
    logger.fatal({ err: error }, `failed to start: ${(error as Error).message}`);
    void telemetry.shutdown().finally(() => exitAfterLogs(logger, 1));
  });
}
