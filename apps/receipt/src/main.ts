import { telemetry } from './instrument';
import { createLogger, runService } from '@waygate/telemetry-sdk';
import { loadReceiptConfig } from './config';
import { startReceipt } from './server';

const logger = createLogger({ service: 'receipt' });
runService({
  logger,
  telemetry,
  start: async () => {
    const config = loadReceiptConfig();
    logger.level = config.logLevel;
    await telemetry.serveMetrics(config.metrics, logger);
    return startReceipt(config, logger);
  },
});
