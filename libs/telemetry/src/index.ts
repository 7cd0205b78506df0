export { startTelemetry } from './start-telemetry';
export type { Telemetry } from './start-telemetry';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { runService } from './run-service';
export type { StartedService } from './run-service';
export { activeTraceparent, contextFromTraceparent } from './trace-context';
