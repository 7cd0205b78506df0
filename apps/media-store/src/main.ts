import { telemetry } from './instrument';
import { createLogger, runService } from '@waygate/telemetry-sdk';
import { loadMediaStoreConfig } from './config';
import { startMediaStore } from './server';

const logger = createLogger({ service: 'media-store' });
runService({
  logger,
  telemetry,
  start: async () => {
    const config = loadMediaStoreConfig();
    logger.level = config.logLevel;
    await telemetry.serveMetrics(config.metrics, logger);
    return startMediaStore(config, logger);
  },
});
