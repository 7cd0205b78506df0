/**
 * The telemetry implementation a process starts: the OpenTelemetry Node SDK with its instrumentations, the pino
 * logger factory and the service lifecycle. For main.ts, instrument.ts, wiring and tests; code that only logs or
 * propagates trace context imports `@waygate/telemetry` (the API entry) instead.
 */
export { startTelemetry } from './start-telemetry';
export type { Telemetry } from './start-telemetry';
export { createLogger } from './pino-logger';
export { runService } from './run-service';
export type { StartedService } from './run-service';
export { createHealthProbes } from './health-probes';
export type { HealthProbes, ReadinessStatus, ServingStatus } from './health-probes';
