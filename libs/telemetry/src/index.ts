/**
 * The telemetry API every layer may use, domain code included: the `Logger` type and trace-context helpers, on
 * `@opentelemetry/api` only. Starting the SDK, the pino logger factory and the process lifecycle are in
 * `@waygate/telemetry-sdk`, which only main.ts, instrument.ts, server.ts wiring and tests import.
 */
export type { Logger } from './logger';
export { activeTraceparent, contextFromTraceparent } from './trace-context';
