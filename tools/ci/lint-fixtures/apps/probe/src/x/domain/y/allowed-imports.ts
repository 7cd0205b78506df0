// Probe: what a domain file at any depth may import. tools/ci/lint-rules.test.ts expects no report at all.
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { nextStatus, type Clock } from '@waygate/domain';
import { contextFromTraceparent, type Logger } from '@waygate/telemetry';
import { applyReport } from './probe-rules';

/** Uses every import, so that only the boundary rules could report anything. */
export function probe(clock: Clock, logger: Logger): unknown {
  logger.info({ at: clock.now() }, 'probe');
  return [randomUUID(), SpanStatusCode.OK, trace, ATTR_ERROR_TYPE, nextStatus, contextFromTraceparent, applyReport];
}
