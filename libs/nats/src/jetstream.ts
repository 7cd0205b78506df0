import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
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
  type NatsConnection,
} from 'nats';
import type { Logger } from '@waygate/telemetry';
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
  const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true });
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
  if (existing) await jsm.streams.update(spec.name, updatable);
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
}

/**
 * Publishes an event with the active trace context in its headers and `msgId` as its Nats-Msg-Id, so a retried
 * publish is stored once. Resolves once JetStream has stored it (the effect is durable).
 */
export async function publishEvent(js: JetStreamClient, subject: string, data: Uint8Array, msgId: string): Promise<void> {
  await tracer.startActiveSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': msgId },
    },
    async (span) => {
      try {
        await js.publish(subject, data, { msgID: msgId, headers: traceHeaders() });
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
  readonly streamSequence: number;
}

export interface ConsumerOptions {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  /** Messages processed at once; 1 keeps stream order. */
  readonly concurrency?: number;
  /**
   * How long JetStream waits for an acknowledgement before it redelivers a message: the delay after which the work of
   * a crashed process is picked up. Handlers may run longer: the consumer reports progress while they run.
   */
  readonly ackWaitMs?: number;
  readonly logger: Logger;
  readonly handle: (data: Uint8Array, info: DeliveryInfo) => Promise<HandlerOutcome>;
}

/** A running durable consumer. */
export interface RunningConsumer {
  /** Stops pulling, waits for in-flight messages to finish (and be acknowledged). */
  stop(): Promise<void>;
}

/**
 * Runs a durable pull consumer. Each message is handled inside a CONSUMER span that continues the publisher's trace;
 * the outcome becomes ack (only after the handler's effect is durable), nak with a delay, or term. A handler that
 * throws is retried after a short delay: throwing must never lose a message.
 */
export async function startConsumer({ js, jsm }: JetStreamConnection, options: ConsumerOptions): Promise<RunningConsumer> {
  const config = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: options.filterSubject,
    ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_ack_pending: 1000,
  };
  try {
    await jsm.consumers.info(options.stream, options.durable);
    await jsm.consumers.update(options.stream, options.durable, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(options.stream, config);
  }
  const consumer = await js.consumers.get(options.stream, options.durable);
  const concurrency = options.concurrency ?? 1;
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(concurrency * 2, 10) });
  const inFlight = new Set<Promise<void>>();

  const loop = (async () => {
    for await (const message of messages) {
      const work = processMessage(message, options).finally(() => inFlight.delete(work));
      inFlight.add(work);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  })();

  return {
    async stop() {
      messages.stop();
      await loop;
      await Promise.all(inFlight);
    },
  };
}

const HANDLER_CRASH_RETRY_MS = 1000;
const DEFAULT_ACK_WAIT_MS = 30_000;

async function processMessage(message: JsMsg, options: ConsumerOptions): Promise<void> {
  const parentContext = extractTraceContext(message.headers);
  const span = tracer.startSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': message.subject,
        'messaging.consumer.group.name': options.durable,
        'messaging.message.delivery_count': message.info.deliveryCount,
      },
    },
    parentContext,
  );
  await context.with(trace.setSpan(parentContext, span), async () => {
    let outcome: HandlerOutcome;
    // A long handler tells JetStream it is still at work, so the ack wait can stay short: a message held by a
    // crashed process comes back after one ack wait, while one being processed slowly is not handed out twice.
    const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const heartbeat = setInterval(() => message.working(), Math.max(100, Math.floor(ackWaitMs / 2)));
    try {
      outcome = await options.handle(message.data, {
        subject: message.subject,
        deliveryCount: message.info.deliveryCount,
        streamSequence: message.info.streamSequence,
      });
    } catch (error) {
      options.logger.error({ err: error, durable: options.durable, seq: message.info.streamSequence }, 'handler failed; will retry');
      span.recordException(error as Error);
      outcome = { kind: 'retry', delayMs: HANDLER_CRASH_RETRY_MS, reason: 'handler error' };
    } finally {
      clearInterval(heartbeat);
    }
    switch (outcome.kind) {
      case 'ack':
        // ackAck waits for the server to confirm, so a lost ack shows up here rather than as a silent redelivery.
        await message
          .ackAck()
          .catch((error: unknown) => options.logger.warn({ err: error }, 'ack not confirmed; message may be redelivered'));
        break;
      case 'retry':
        span.setAttribute('waygate.retry_reason', outcome.reason);
        message.nak(outcome.delayMs);
        break;
      case 'reject':
        options.logger.error({ durable: options.durable, seq: message.info.streamSequence, reason: outcome.reason }, 'message rejected');
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
        // No reason on the wire: nats-server 2.9 ignores '+TERM <reason>' (reasons arrived in 2.10); it is logged above.
        message.term();
        break;
    }
    span.end();
  });
}
