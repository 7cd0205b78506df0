import { telemetry } from './instrument';
import { createLogger, runService } from '@waygate/telemetry-sdk';
import { loadArchiveConfig } from './config';
import { startArchive } from './server';

const logger = createLogger({ service: 'archive' });
runService({
  logger,
  telemetry,
  start: async () => {
    const config = loadArchiveConfig();
    logger.level = config.logLevel;
    await telemetry.serveMetrics(config.metrics, logger);
    return startArchive(config, logger);
  },
});
