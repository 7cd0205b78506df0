import { SpanKind, SpanStatusCode, context, metrics, trace, type Counter, type Meter, type Span } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
  type NatsConnection,
} from 'nats';
import {
  isDataKeyUnavailableError,
  isSealedPayload,
  MalformedSealedPayloadError,
  openPayload,
  sealPayload,
  sealedPayloadKeyId,
  tenantOfKeyId,
  type Keyring,
  type KeyScope,
} from '@waygate/keyring';
import type { Logger } from '@waygate/telemetry';
import { boundedReason, putDeadLetter, REPLAY_FOR_HEADER, type DeadLetterReasonKind } from './dead-letters';
import { extractTraceContext, traceHeaders } from './trace-headers';
import { regionStreams, type StreamSpec } from './subjects';

const tracer = trace.getTracer('@waygate/nats');

/** A JetStream connection with its client and manager. */
export interface JetStreamConnection {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/** Connects to NATS, retrying forever on disconnects (JetStream redelivers whatever was not acknowledged). */
export async function connectJetStream(url: string, name: string): Promise<JetStreamConnection> {
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // Every request (each JetStream publish waits for its PubAck through one) would otherwise build an Error up front
    // to carry the caller's stack into a later timeout: 2-3 % of a service's CPU in issue 15's profiles. Timeouts
    // still fail with their own error; only the extra frames of where the call started are gone.
    noAsyncTraces: true,
  });
  return { nc, js: nc.jetstream(), jsm: await nc.jetstreamManager() };
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, onWarning: (warning: string) => void): Promise<void> {
  const config = {
    name: spec.name,
    subjects: spec.subjects,
    storage: StorageType.File,
    retention: spec.retention === 'interest' ? RetentionPolicy.Interest : RetentionPolicy.Limits,
    max_age: nanos(spec.maxAgeMs),
    // Publishers set Nats-Msg-Id; a publish retried within this window is stored once.
    duplicate_window: nanos(5 * 60 * 1000),
  };
  const { retention: _retention, ...updatable } = config;
  let existing;
  try {
    existing = await jsm.streams.info(spec.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!existing) {
    await jsm.streams.add(config);
  } else if (existing.config.retention !== config.retention) {
    // JetStream cannot change a stream's retention; an operator migrates it (docs/architecture.md, "Streams").
    onWarning(`stream ${spec.name} has retention ${existing.config.retention}, expected ${config.retention}; left unchanged`);
  }
  // Only when something changed: every replica of every service runs this at startup, and an update is not free for
  // a stream that is busy.
  if (existing && !sameSettings(existing.config, updatable)) await jsm.streams.update(spec.name, updatable);
  for (const consumer of spec.consumers) {
    try {
      await jsm.consumers.info(spec.name, consumer.durable);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(spec.name, {
        durable_name: consumer.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: consumer.filterSubject,
      });
    }
  }
}

/** Whether `current` already has every setting in `wanted` (arrays compared element by element). */
function sameSettings(current: object, wanted: object): boolean {
  const have = current as Record<string, unknown>;
  return Object.entries(wanted).every(([key, value]) =>
    Array.isArray(value) ? JSON.stringify(have[key]) === JSON.stringify(value) : have[key] === value,
  );
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}

/** Creates or updates the region's streams; every service calls it at startup, so start order does not matter. */
export async function ensureRegionStreams(
  jsm: JetStreamManager,
  region: string,
  onWarning: (warning: string) => void = () => undefined,
): Promise<void> {
  const streams = regionStreams(region);
  await ensureStream(jsm, streams.outbound, onWarning);
  await ensureStream(jsm, streams.events, onWarning);
  await ensureStream(jsm, streams.webhooks, onWarning);
  await ensureStream(jsm, streams.deadLetters, onWarning);
  await ensureStream(jsm, streams.governance, onWarning);
}

/**
 * Publishes an event with the active trace context in its headers and `msgId` as its Nats-Msg-Id, so a retried
 * publish is stored once. Resolves once JetStream has stored it (the effect is durable).
 */
export async function publishEvent(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  msgId: string,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<void> {
  await tracer.startActiveSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': msgId },
    },
    async (span) => {
      try {
        const headers: MsgHdrs = traceHeaders();
        for (const [key, value] of Object.entries(extraHeaders)) headers.set(key, value);
        await js.publish(subject, data, { msgID: msgId, headers });
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Header marking a sealed event (`v1`): for operators and tools. Consumers go by the payload itself (a sealed payload
 * is self-describing), so a copy without the header (a dead letter, a replay) is opened the same way.
 */
export const SEALED_HEADER = 'Waygate-Sealed';

/** What seals an event: the keyring and the scope whose data key to use (a customer's, or an ephemeral one). */
export interface EventSeal {
  readonly keyring: Pick<Keyring, 'dataKeyFor'>;
  readonly scope: KeyScope;
}

/**
 * Publishes an event sealed under the data key of `seal.scope` (crypto-shredding: once that key is destroyed, the
 * stream's copy, and every copy of it, is unreadable). Consumers started with a keyring open it before their handler
 * sees it (see {@link ConsumerOptions.keyring}).
 */
export async function publishSealedEvent(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  msgId: string,
  seal: EventSeal,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<void> {
  await publishEvent(js, subject, await sealPayload(seal.keyring, seal.scope, data), msgId, { ...extraHeaders, [SEALED_HEADER]: 'v1' });
}

/**
 * Publishes an event about one customer sealed under that customer's data key (`customer` in E.164, as everywhere),
 * or unsealed when the customer is not known (empty): erasing the customer then shreds the stream's copy.
 */
export async function publishCustomerEvent(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  msgId: string,
  customer: { readonly keyring: Pick<Keyring, 'dataKeyFor' | 'customerRef'>; readonly tenantId: string; readonly customer: string },
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<void> {
  if (customer.customer === '') return publishEvent(js, subject, data, msgId, extraHeaders);
  const scope: KeyScope = {
    tenantId: customer.tenantId,
    customerRef: await customer.keyring.customerRef(customer.tenantId, customer.customer),
  };
  await publishSealedEvent(js, subject, data, msgId, { keyring: customer.keyring, scope }, extraHeaders);
}

/** What a handler decided about one message; the consumer maps it onto JetStream's ack protocol. */
export type HandlerOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string };

export const ACK: HandlerOutcome = { kind: 'ack' };

/** Delivery facts a handler may use (e.g. to back off by attempt). */
export interface DeliveryInfo {
  readonly subject: string;
  /** 1 for the first delivery. */
  readonly deliveryCount: number;
  /**
   * This is the message's last delivery (`deliveryCount` reached the consumer's `maxDeliveries`): if the handler
   * throws or asks for a retry now, the message is dead-lettered. A handler may settle for less instead.
   */
  readonly lastDelivery: boolean;
  readonly streamSequence: number;
}

/** Delays before a message whose handler threw is delivered again: doubling from `baseMs`, capped at `maxMs`. */
export interface ConsumerBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface ConsumerOptions {
  /** The region whose dead-letter stream receives what this consumer gives up on. */
  readonly region: string;
  readonly stream: string;
  /** Durable name; also names its dead letters (`waygate.<region>.deadletters.<durable>`), so no dots or wildcards. */
  readonly durable: string;
  readonly filterSubject: string;
  /** Messages processed at once; 1 keeps stream order (see {@link orderKey} for order per key with more). */
  readonly concurrency?: number;
  /**
   * With `concurrency` > 1: messages with the same key are handled one after another, in the order the stream
   * delivered them, while messages with different keys run in parallel (up to `concurrency` in flight, waiting ones
   * included). Messages without a key (undefined: a publisher that sets none) share one lane, so they keep stream
   * order among themselves, as at concurrency 1. Order is the order of first deliveries: a message that
   * is retried later comes back after the ones behind it, exactly as at concurrency 1. Parallel handlers are what
   * lets a store's group commit share one durable commit between them (issue 15). {@link orderKeyHeader} reads the
   * key publishers put in {@link ORDER_KEY_HEADER}.
   */
  readonly orderKey?: (message: { readonly subject: string; readonly headers?: MsgHdrs }) => string | undefined;
  /**
   * How long JetStream waits for an acknowledgement before it redelivers a message: the delay after which the work of
   * a crashed process is picked up. Handlers may run longer: the consumer reports progress while they run.
   */
  readonly ackWaitMs?: number;
  /**
   * Deliveries of one message before the consumer gives up on it and moves it to the dead-letter stream (default
   * {@link DEFAULT_MAX_DELIVERIES}). Counts every delivery: after a handler error, after a `retry` outcome, and after
   * a crash or an ack wait that ran out.
   */
  readonly maxDeliveries?: number;
  /**
   * How long one handler run may take before the consumer gives up waiting for it (default
   * {@link DEFAULT_HANDLER_TIMEOUT_MS}): the message is then treated as a handler error (retried with backoff, dead-
   * lettered after `maxDeliveries`) and its slot is freed. Without it a handler that never settles would hold its
   * message forever (the consumer reports progress while a handler runs, so JetStream never redelivers it) and,
   * at concurrency 1, every message behind it. Handlers must be idempotent anyway: an abandoned run may still finish.
   */
  readonly handlerTimeoutMs?: number;
  /** Backoff after a handler error (default {@link DEFAULT_ERROR_BACKOFF}); a `retry` outcome brings its own delay. */
  readonly errorBackoff?: ConsumerBackoff;
  /** Where the consumer's counters go (default: the global meter provider's `@waygate/nats` meter). */
  readonly meter?: Meter;
  /**
   * Opens sealed events (see {@link publishSealedEvent}) before the handler sees them; unsealed ones pass untouched
   * (what was published before sealing was turned on). An event whose data key was destroyed (an erased customer, a
   * shredded webhook epoch) is erased content: acknowledged, counted in `waygate.events.erased`, logged without
   * content, never handed to the handler and never dead-lettered. Without a keyring a sealed event is a handler
   * error (retried, then dead-lettered still sealed): give every consumer of a stream that carries sealed events one.
   */
  readonly keyring?: Pick<Keyring, 'dataKeyById'>;
  readonly logger: Logger;
  readonly handle: (data: Uint8Array, info: DeliveryInfo) => Promise<HandlerOutcome>;
}

/**
 * Header with an event's order key (a message id, a wamid, a customer pseudonym: never personal data, the header is
 * not sealed), set by publishers whose consumers handle events in parallel but per key in order.
 */
export const ORDER_KEY_HEADER = 'Waygate-Order-Key';

/** {@link ConsumerOptions.orderKey} reading {@link ORDER_KEY_HEADER}. */
export function orderKeyHeader(message: { readonly headers?: MsgHdrs }): string | undefined {
  return message.headers?.get(ORDER_KEY_HEADER) || undefined;
}

/**
 * The order key of every event about one outbound message (its status changes, from delivery-retry and receipt
 * alike): consumers then apply one message's events in stream order and different messages' in parallel. Both
 * publishers must use this one form, or one message's events would land in two lanes.
 */
export function messageOrderKey(tenantId: string, messageId: string): string {
  return `message:${tenantId}:${messageId}`;
}

/** The lane of messages without an order key (a key publishers cannot produce: they are never empty). */
const UNKEYED_LANE = '';

/** A running durable consumer. */
export interface RunningConsumer {
  readonly durable: string;
  /** Stops pulling, waits for in-flight messages to finish (and be acknowledged). */
  stop(): Promise<void>;
}

/**
 * Default {@link ConsumerOptions.maxDeliveries}. With the default backoff, fifteen deliveries span about 35 minutes:
 * a message outlives a short storage or NATS outage, while a poison message costs fifteen handler runs, not a loop.
 */
export const DEFAULT_MAX_DELIVERIES = 15;
/** Default {@link ConsumerOptions.errorBackoff}: 1 s, 2 s, 4 s … capped at 5 minutes. */
export const DEFAULT_ERROR_BACKOFF: ConsumerBackoff = { baseMs: 1000, maxMs: 5 * 60_000 };
const DEFAULT_ACK_WAIT_MS = 30_000;
/** Default {@link ConsumerOptions.handlerTimeoutMs}: far above any handler's normal run, short enough to unblock. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 5 * 60_000;

/** A handler run that did not settle within {@link ConsumerOptions.handlerTimeoutMs}. */
export class HandlerTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`handler did not settle within ${timeoutMs} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

/** Runs `work` but rejects with {@link HandlerTimeoutError} once `timeoutMs` has passed (`work` is not cancelled). */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
/** At most one warning per consumer this often about handler errors that will be retried; the rest are debug. */
const RETRY_WARNING_INTERVAL_MS = 10_000;
const DURABLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The delay before delivery `deliveryCount + 1` after a handler error. */
export function errorBackoffMs(backoff: ConsumerBackoff, deliveryCount: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 30));
}

/** An error as one short line: its name and message (digit runs masked, see `boundedReason`), never its stack. */
function describeError(error: unknown): string {
  if (error instanceof Error) return boundedReason(`${error.name}: ${error.message}`.split('\n')[0].slice(0, 300));
  return `non-error thrown: ${typeof error}`;
}

/** Everything one consumer's messages share. */
interface ConsumerRuntime {
  readonly js: JetStreamClient;
  readonly options: ConsumerOptions;
  readonly maxDeliveries: number;
  readonly errorBackoff: ConsumerBackoff;
  readonly deadLetters: Counter;
  readonly handlerErrors: Counter;
  readonly erased: Counter;
  /** Reasons of messages whose dead-lettering failed, so that a redelivery is dead-lettered with the real reason. */
  readonly pendingDeadLetters: Map<number, { kind: DeadLetterReasonKind; reason: string }>;
  retryWarnings: { lastAt: number; suppressed: number };
}

/**
 * Runs a durable pull consumer. Each message is handled inside a CONSUMER span that continues the publisher's trace;
 * the outcome becomes ack (only after the handler's effect is durable), nak with a delay, or — once the message has
 * been delivered `maxDeliveries` times, or the handler rejected it — a dead letter: the message moves to the region's
 * dead-letter stream with its reason (one error log line, one `waygate.consumer.dead_letters` count) and is
 * terminated here. A handler that throws is retried with backoff: throwing never loses a message, and never loops
 * forever. A message replayed for another consumer (`Waygate-Replay-For`) is acknowledged untouched.
 */
export async function startConsumer({ js, jsm }: JetStreamConnection, options: ConsumerOptions): Promise<RunningConsumer> {
  if (!DURABLE_NAME.test(options.durable)) throw new Error(`durable name ${JSON.stringify(options.durable)} must match ${DURABLE_NAME}`);
  const config = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: options.filterSubject,
    ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_ack_pending: 1000,
    // No server-side max_deliver: the server would just stop delivering (nats-server 2.9 only emits an advisory),
    // leaving the message unacknowledged and unseen. The consumer counts deliveries and dead-letters instead.
  };
  let existing;
  try {
    existing = await jsm.consumers.info(options.stream, options.durable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!existing) await jsm.consumers.add(options.stream, config);
  else if (!sameSettings(existing.config, config)) await jsm.consumers.update(options.stream, options.durable, config);
  const meter = options.meter ?? metrics.getMeter('@waygate/nats');
  const runtime: ConsumerRuntime = {
    js,
    options,
    maxDeliveries: Math.max(1, options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES),
    errorBackoff: options.errorBackoff ?? DEFAULT_ERROR_BACKOFF,
    deadLetters: meter.createCounter('waygate.consumer.dead_letters', {
      description: 'messages a consumer gave up on and moved to the dead-letter stream, by consumer and reason',
    }),
    handlerErrors: meter.createCounter('waygate.consumer.handler_errors', {
      description: 'deliveries whose handler threw or did not settle in time, by consumer and kind (error, timeout)',
    }),
    erased: meter.createCounter('waygate.events.erased', {
      description: 'sealed events acknowledged unread because their data key was destroyed (erased content), by stream and consumer',
    }),
    pendingDeadLetters: new Map(),
    retryWarnings: { lastAt: 0, suppressed: 0 },
  };
  const consumer = await js.consumers.get(options.stream, options.durable);
  const concurrency = options.concurrency ?? 1;
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(concurrency * 2, 10) });
  const inFlight = new Set<Promise<void>>();
  // The last message queued per order key: the next one with that key starts when it settled.
  const lanes = new Map<string, Promise<void>>();
  const keyOf = concurrency > 1 ? options.orderKey : undefined;
  const heartbeatMs = Math.max(100, Math.floor((options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) / 2));

  const loop = (async () => {
    for await (const message of messages) {
      const key = keyOf === undefined ? undefined : (keyOf(message) ?? UNKEYED_LANE);
      const previous = key === undefined ? undefined : lanes.get(key);
      let work: Promise<void>;
      if (previous === undefined) {
        work = processMessage(message, runtime);
      } else {
        // Waiting behind its key's earlier messages: it still tells JetStream it is being worked on.
        const waiting = setInterval(() => message.working(), heartbeatMs);
        const run = (): Promise<void> => {
          clearInterval(waiting);
          return processMessage(message, runtime);
        };
        work = previous.then(run, run);
      }
      const tracked: Promise<void> = work.finally(() => {
        inFlight.delete(tracked);
        if (key !== undefined && lanes.get(key) === tracked) lanes.delete(key);
      });
      if (key !== undefined) lanes.set(key, tracked);
      inFlight.add(tracked);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  })();

  return {
    durable: options.durable,
    async stop() {
      messages.stop();
      await loop;
      await Promise.all(inFlight);
    },
  };
}

/** Logs a handler error that will be retried: a warning at most every few seconds per consumer, else debug. */
function logRetriedError(runtime: ConsumerRuntime, message: JsMsg, error: unknown, retryInMs: number): void {
  const fields = {
    durable: runtime.options.durable,
    seq: message.info.streamSequence,
    delivery: message.info.deliveryCount,
    max_deliveries: runtime.maxDeliveries,
    error: describeError(error),
    retry_in_ms: retryInMs,
  };
  const now = Date.now();
  const warnings = runtime.retryWarnings;
  if (now - warnings.lastAt < RETRY_WARNING_INTERVAL_MS) {
    warnings.suppressed++;
    runtime.options.logger.debug(fields, 'handler failed; will retry');
    return;
  }
  runtime.options.logger.warn({ ...fields, similar_since_last_warning: warnings.suppressed }, 'handler failed; will retry');
  warnings.lastAt = now;
  warnings.suppressed = 0;
}

/**
 * Moves a message to the dead-letter stream, then terminates it. If the dead letter cannot be stored (NATS trouble),
 * the message is delivered again later and dead-lettered then, with the same reason.
 */
async function deadLetter(runtime: ConsumerRuntime, message: JsMsg, kind: DeadLetterReasonKind, reason: string): Promise<void> {
  const { options } = runtime;
  const seq = message.info.streamSequence;
  try {
    await putDeadLetter(runtime.js, options.region, {
      consumer: options.durable,
      reason,
      reasonKind: kind,
      subject: message.subject,
      stream: message.info.stream,
      sequence: seq,
      deliveryCount: message.info.deliveryCount,
      publishedAt: new Date(Math.floor(message.info.timestampNanos / 1e6)),
      deadLetteredAt: new Date(),
      data: message.data,
      headers: message.headers,
    });
  } catch (error) {
    if (runtime.pendingDeadLetters.size >= 1000) runtime.pendingDeadLetters.clear();
    runtime.pendingDeadLetters.set(seq, { kind, reason });
    const retryInMs = errorBackoffMs(runtime.errorBackoff, message.info.deliveryCount);
    options.logger.warn(
      { durable: options.durable, seq, error: describeError(error), retry_in_ms: retryInMs },
      'could not store dead letter; will retry',
    );
    message.nak(retryInMs);
    return;
  }
  runtime.pendingDeadLetters.delete(seq);
  // No reason on the wire: nats-server 2.9 ignores '+TERM <reason>' (reasons arrived in 2.10); the dead letter has it.
  message.term();
  runtime.deadLetters.add(1, { consumer: options.durable, reason: kind });
  // The one line per poison message (earlier deliveries logged at most a throttled warning, never a stack).
  options.logger.error(
    {
      durable: options.durable,
      seq,
      subject: message.subject,
      deliveries: message.info.deliveryCount,
      reason_kind: kind,
      reason: boundedReason(reason),
    },
    'message moved to the dead-letter stream',
  );
}

/** How long after a first delivery whose data key was not found it is looked at again (then it counts as erased). */
export const ERASED_RECHECK_DELAY_MS = 2_000;

/** A sealed event whose data key was destroyed: acknowledged unread (see {@link ConsumerOptions.keyring}). */
interface ErasedOutcome {
  readonly kind: 'erased';
  readonly keyId: string;
}

/** Opens a sealed event and hands the plaintext to the handler; erased and malformed ones never reach it. */
async function openThenHandle(runtime: ConsumerRuntime, data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome | ErasedOutcome> {
  const { keyring } = runtime.options;
  if (!keyring) throw new Error('a sealed event reached a consumer that was given no keyring');
  let plaintext: Uint8Array;
  try {
    plaintext = await openPayload(keyring, data);
  } catch (error) {
    if (isDataKeyUnavailableError(error)) {
      // Looked at twice before it is given up as erased: a key created a moment ago may not have reached the replica
      // of the keyring bucket this read went to yet, and erased content must never be a lost message.
      if (info.deliveryCount === 1 && !info.lastDelivery)
        return {
          kind: 'retry',
          delayMs: ERASED_RECHECK_DELAY_MS,
          reason: 'data key unavailable; checked again before it counts as erased',
        };
      return { kind: 'erased', keyId: sealedPayloadKeyId(data) };
    }
    // Altered or truncated: no delivery can open it; the dead letter keeps it sealed.
    if (error instanceof MalformedSealedPayloadError) return { kind: 'reject', reason: error.message };
    throw error; // the keyring's store is unreachable: retried like any handler error
  }
  return runtime.options.handle(plaintext, info);
}

async function processMessage(message: JsMsg, runtime: ConsumerRuntime): Promise<void> {
  const { options } = runtime;
  const parentContext = extractTraceContext(message.headers);
  const deliveryCount = message.info.deliveryCount;
  const span = tracer.startSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': message.subject,
        'messaging.consumer.group.name': options.durable,
        'messaging.message.delivery_count': deliveryCount,
      },
    },
    parentContext,
  );
  await context.with(trace.setSpan(parentContext, span), async () => {
    try {
      await settle(message, runtime, span, deliveryCount);
    } finally {
      span.end();
    }
  });
}

async function settle(message: JsMsg, runtime: ConsumerRuntime, span: Span, deliveryCount: number): Promise<void> {
  const { options } = runtime;
  const replayFor = message.headers?.get(REPLAY_FOR_HEADER);
  if (replayFor && replayFor !== options.durable) {
    // Replayed from the dead letters of another consumer of this subject; this one has processed it already.
    await message.ackAck().catch(() => undefined);
    return;
  }
  if (deliveryCount > runtime.maxDeliveries) {
    // It came back without an outcome more often than allowed: handling it again may crash the process again.
    const pending = runtime.pendingDeadLetters.get(message.info.streamSequence);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
    await deadLetter(
      runtime,
      message,
      pending?.kind ?? 'redelivered',
      pending?.reason ?? `delivered ${deliveryCount} times without an outcome (a crash or an ack wait that ran out)`,
    );
    return;
  }
  let outcome: HandlerOutcome | ErasedOutcome;
  // A long handler tells JetStream it is still at work, so the ack wait can stay short: a message held by a
  // crashed process comes back after one ack wait, while one being processed slowly is not handed out twice.
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  const heartbeat = setInterval(() => message.working(), Math.max(100, Math.floor(ackWaitMs / 2)));
  try {
    const info: DeliveryInfo = {
      subject: message.subject,
      deliveryCount,
      lastDelivery: deliveryCount >= runtime.maxDeliveries,
      streamSequence: message.info.streamSequence,
    };
    const run = isSealedPayload(message.data) ? openThenHandle(runtime, message.data, info) : options.handle(message.data, info);
    // An abandoned run that fails later must not surface as an unhandled rejection.
    run.catch(() => undefined);
    outcome = await withDeadline(run, options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS);
  } catch (error) {
    span.recordException(error as Error);
    runtime.handlerErrors.add(1, { consumer: options.durable, kind: error instanceof HandlerTimeoutError ? 'timeout' : 'error' });
    if (deliveryCount >= runtime.maxDeliveries) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
      await deadLetter(runtime, message, 'handler_error', `handler error: ${describeError(error)}`);
      return;
    }
    const retryInMs = errorBackoffMs(runtime.errorBackoff, deliveryCount);
    logRetriedError(runtime, message, error, retryInMs);
    message.nak(retryInMs);
    return;
  } finally {
    clearInterval(heartbeat);
  }
  switch (outcome.kind) {
    case 'erased':
      runtime.erased.add(1, { stream: message.info.stream, consumer: options.durable });
      options.logger.info(
        { durable: options.durable, seq: message.info.streamSequence, subject: message.subject, tenant: tenantOfKeyId(outcome.keyId) },
        'sealed event skipped: its data key was destroyed (erased content)',
      );
      message.ack();
      break;
    case 'ack':
      // Not ackAck: waiting for the server's confirmation cost every message a request/reply round trip (a reply
      // subscription entry, a timer, an error object for its stack: 2-3 % of a service's CPU in issue 15's profiles)
      // and bought only a log line. An ack lost with the connection means a redelivery after the ack wait, which
      // every handler absorbs (they are idempotent); connections are drained on shutdown, which flushes pending acks.
      message.ack();
      break;
    case 'retry':
      span.setAttribute('waygate.retry_reason', outcome.reason);
      if (deliveryCount >= runtime.maxDeliveries) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
        await deadLetter(runtime, message, 'retry_exhausted', `still failing after ${deliveryCount} deliveries: ${outcome.reason}`);
        break;
      }
      message.nak(outcome.delayMs);
      break;
    case 'reject':
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
      await deadLetter(runtime, message, 'rejected', `rejected: ${outcome.reason}`);
      break;
  }
}
