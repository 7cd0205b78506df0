import { telemetry } from './instrument';
import { createLogger, runService } from '@waygate/telemetry-sdk';
import { loadDeliveryRetryConfig } from './config';
import { startDeliveryRetry } from './server';

const logger = createLogger({ service: 'delivery-retry' });
runService({
  logger,
  telemetry,
  start: async () => {
    const config = loadDeliveryRetryConfig();
    logger.level = config.logLevel;
    await telemetry.serveMetrics(config.metrics, logger);
    return startDeliveryRetry(config, logger);
  },
});
