import type pino from 'pino';

/**
 * Structured JSON logger; every line carries service, region and the active trace/span ids. Code receives one
 * (injected at wiring time) and never creates one: the factory, `createLogger`, is in `@waygate/telemetry-sdk`.
 */
export type Logger = pino.Logger;
