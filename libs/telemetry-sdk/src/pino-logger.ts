import { trace } from '@opentelemetry/api';
import pino from 'pino';
import type { Logger } from '@waygate/telemetry';

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

/**
 * Creates the process's logger (pino, JSON lines to stdout unless `destination` is given): base fields service and
 * region, the active trace/span ids on every line, and secrets and personal data redacted by path.
 *
 * stdout is written asynchronously (pino's sonic-boom with `sync: false`, issue 15): a line is handed to the kernel
 * at once when no write is in flight, and lines logged while one is are coalesced into the next write, so a busy
 * service no longer blocks on one write(2) per line (one info line per message per service cost each of them a
 * synchronous write). pino flushes what is left synchronously on `exit` (also after an uncaught error); only a
 * SIGKILL can lose the last lines, never a message: logs are not the record of anything.
 */
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
    // minLength 1 writes every line at once, as 0 would, but makes `logger.flush(cb)` wait for the write in flight
    // (sonic-boom answers a flush at once when minLength is 0); runService exits only after that callback.
    options.destination ?? pino.destination({ dest: 1, sync: false, minLength: 1 }),
  );
}
