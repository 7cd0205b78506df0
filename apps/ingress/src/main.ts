import { telemetry } from './instrument';
import { createLogger, runService } from '@waygate/telemetry-sdk';
import { loadIngressConfig } from './config';
import { startIngress } from './server';

const logger = createLogger({ service: 'ingress' });
runService({
  logger,
  telemetry,
  start: async () => {
    const config = loadIngressConfig();
    logger.level = config.logLevel;
    await telemetry.serveMetrics(config.metrics, logger);
    return startIngress(config, logger);
  },
});
