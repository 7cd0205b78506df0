import { idViolations, InvalidArgumentError, isE164, type FieldViolation } from '@waygate/domain';
import type { FeedWakeups } from './feed-wakeups';
import type { EventFilter, TenantFeedStore } from './feed-store';
import { TENANT_EVENT_TYPES, type TenantEvent, type TenantEventType } from './tenant-event';

export const MAX_FILTER_VALUES = 100;
/** Events read from the store per query while catching up. */
const READ_BATCH = 100;

/** A WatchEvents request as the transport hands it over (event types already named, unknown ones as given). */
export interface WatchRequestInput {
  /** Decimal, as uint64 arrives. */
  readonly afterSequence: string;
  readonly messageIds: readonly string[];
  readonly recipients: readonly string[];
  readonly eventTypes: readonly string[];
}

export interface WatchRequest {
  readonly afterSequence: number;
  readonly filter: EventFilter;
}

/** Validates a watch request, listing every bad field. */
export function parseWatchRequest(input: WatchRequestInput): WatchRequest {
  const violations: FieldViolation[] = [];
  const afterSequence = /^\d{1,15}$/.test(input.afterSequence) ? Number(input.afterSequence) : Number.NaN;
  if (!Number.isSafeInteger(afterSequence)) {
    violations.push({ field: 'after_sequence', reason: 'OUT_OF_RANGE', description: 'must be a sequence this log can have' });
  }
  const tooMany = (field: string, values: readonly unknown[]) => {
    if (values.length > MAX_FILTER_VALUES)
      violations.push({ field, reason: 'TOO_MANY', description: `at most ${MAX_FILTER_VALUES} values` });
  };
  tooMany('message_ids', input.messageIds);
  input.messageIds.slice(0, MAX_FILTER_VALUES).forEach((id, index) => violations.push(...idViolations(`message_ids[${index}]`, id)));
  tooMany('recipients', input.recipients);
  input.recipients.slice(0, MAX_FILTER_VALUES).forEach((recipient, index) => {
    // The value is never echoed: it may be a phone number.
    if (!isE164(recipient))
      violations.push({ field: `recipients[${index}]`, reason: 'INVALID', description: 'must be an E.164 phone number' });
  });
  tooMany('event_types', input.eventTypes);
  input.eventTypes.slice(0, MAX_FILTER_VALUES).forEach((type, index) => {
    if (!(TENANT_EVENT_TYPES as readonly string[]).includes(type)) {
      violations.push({
        field: `event_types[${index}]`,
        reason: 'INVALID',
        description: 'must be TENANT_EVENT_TYPE_STATUS or TENANT_EVENT_TYPE_INBOUND',
      });
    }
  });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  const filter: EventFilter = {
    ...(input.messageIds.length > 0 ? { messageIds: [...new Set(input.messageIds)] } : {}),
    ...(input.recipients.length > 0 ? { customers: [...new Set(input.recipients)] } : {}),
    ...(input.eventTypes.length > 0 ? { types: [...new Set(input.eventTypes as TenantEventType[])] } : {}),
  };
  return { afterSequence, filter };
}

/** Where a watch sends events; `write` resolves when the client can take more. */
export interface EventSink {
  write(event: TenantEvent): Promise<void>;
}

/**
 * Streams a tenant's events after `request.afterSequence` that match its filter: the backlog first, then new
 * events as they are appended, until `signal` aborts. Each event is written once, in sequence order, and the next
 * is only read after the previous write resolved, so a slow client slows the watch instead of filling memory.
 * Resuming with the last sequence written continues exactly after it.
 */
export async function watchEvents(
  deps: { store: TenantFeedStore; wakeups: FeedWakeups; recheckMs: number },
  tenantId: string,
  request: WatchRequest,
  sink: EventSink,
  signal: AbortSignal,
): Promise<void> {
  const { store, wakeups, recheckMs } = deps;
  const last = await store.lastSequence(tenantId);
  if (request.afterSequence > last) {
    throw new InvalidArgumentError([
      { field: 'after_sequence', reason: 'OUT_OF_RANGE', description: `is beyond the end of the log (last sequence ${last})` },
    ]);
  }
  const first = await store.firstSequence(tenantId);
  if (request.afterSequence > 0 && first !== undefined && request.afterSequence < first - 1) {
    throw new InvalidArgumentError([
      {
        field: 'after_sequence',
        reason: 'NOT_RETAINED',
        description: `events after it are no longer retained (oldest retained sequence ${first}); start again from 0`,
      },
    ]);
  }
  let cursor = request.afterSequence;
  while (!signal.aborted) {
    const seen = wakeups.version(tenantId);
    // Every event up to `head` is readable (the store's contract), so scanning up to it never skips one.
    const head = await store.lastSequence(tenantId);
    while (cursor < head && !signal.aborted) {
      const batch = await store.readEvents(tenantId, { after: cursor, upTo: head, limit: READ_BATCH, filter: request.filter });
      for (const event of batch) {
        if (!(await untilAborted(sink.write(event), signal))) return;
      }
      cursor = batch.length < READ_BATCH ? head : (batch.at(-1)?.sequence ?? head);
    }
    await wakeups.waitBeyond(tenantId, seen, recheckMs, signal);
  }
}

/** Waits for `work` unless `signal` aborts first; true when the work finished. */
function untilAborted(work: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
