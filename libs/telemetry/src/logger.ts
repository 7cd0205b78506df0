import { trace } from '@opentelemetry/api';
import pino from 'pino';

/** Structured JSON logger; every line carries service, region and the active trace/span ids. */
export type Logger = pino.Logger;

/**
 * Paths that may carry secrets or personal data. Services log ids, statuses and masked numbers only; these paths
 * are a safety net for an object logged by mistake.
 */
const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'accessToken',
  '*.accessToken',
  'appSecret',
  '*.appSecret',
  'apiKey',
  '*.apiKey',
  'body',
  '*.body',
  'text',
  '*.text',
  'to',
  '*.to',
  'content',
  '*.content',
  'recipient',
  '*.recipient',
  'textBody',
  '*.textBody',
  'filename',
  '*.filename',
  'encryptionKey',
  '*.encryptionKey',
];

export function createLogger(options: { service: string; region?: string; level?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, region: options.region },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin() {
        const spanContext = trace.getActiveSpan()?.spanContext();
        return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
      },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}
