import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { credentials, Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { Clock, MessageStatus } from '@waygate/domain';
import { toProtoStatus } from '@waygate/contracts';
import { startGrpcServer, type RunningGrpcServer } from '@waygate/grpc';
import { connectJetStream, ensureRegionStreams, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  InboundMessageReceived,
  MessageStatusChanged,
  ReceiptServiceClient,
  StatusSource,
  WatchEventsRequest,
  type TenantEvent,
  type WatchEventsResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import type { TenantDirectory } from '@waygate/tenancy';
import { waitFor } from '@waygate/testing';
import { loadFeedConfig } from '../config';
import { startTenantFeed, type RunningTenantFeed } from '../start-tenant-feed';

/** Feed tests run in region eu. */
export const REGION = 'eu';
export const T0 = Date.UTC(2025, 0, 1);

export const silentLogger = () =>
  createLogger({ service: 'receipt-feed-test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

/** A clock that only moves when told. */
export function manualClock(startMs = T0): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = startMs;
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

/** One receipt replica's feed with its own NATS connection and gRPC server. */
export interface FeedInstance {
  readonly feed: RunningTenantFeed;
  readonly grpc: RunningGrpcServer;
  readonly address: string;
  stop(): Promise<void>;
}

export async function startFeedInstance(options: {
  natsUrl: string;
  tenants: TenantDirectory;
  sqliteFile: string;
  env?: Record<string, string>;
  clock?: Clock;
}): Promise<FeedInstance> {
  const nats = await connectJetStream(options.natsUrl, 'receipt-feed-test');
  // As receipt's server does before starting its parts.
  await ensureRegionStreams(nats.jsm, REGION);
  const logger = silentLogger();
  const feed = await startTenantFeed({
    // A short ack wait: inputs a stopped instance had fetched come back within the test.
    config: loadFeedConfig({ WAYGATE_FEED_RECHECK_MS: '20', WAYGATE_FEED_ACK_WAIT_MS: '1000', ...options.env }),
    tenants: options.tenants,
    region: REGION,
    nats,
    storage: { kind: 'sqlite', file: options.sqliteFile },
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const grpc = await startGrpcServer({ host: '127.0.0.1', port: 0, tenants: options.tenants, region: REGION, services: feed.grpcServices });
  return {
    feed,
    grpc,
    address: `127.0.0.1:${grpc.port}`,
    async stop() {
      await feed.stop();
      await grpc.shutdown(1000);
      await nats.nc.drain();
    },
  };
}

export interface StatusInput {
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: MessageStatus;
  /** delivery: delivery-retry's events.delivery; webhook: receipt's events.receipt. */
  readonly source: 'delivery' | 'webhook';
  readonly occurredAtMs?: number;
  readonly waMessageId?: string;
  readonly recipient?: string;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  readonly attempt?: number;
  readonly nextAttemptAtMs?: number;
}

/** Publishes a MessageStatusChanged as delivery-retry or receipt would; `msgId` overrides the JetStream dedupe id. */
export async function publishStatus(js: JetStreamConnection['js'], input: StatusInput, msgId = input.eventId): Promise<void> {
  const subjects = regionSubjects(REGION);
  const data = MessageStatusChanged.encode({
    eventId: input.eventId,
    tenantId: input.tenantId,
    messageId: input.messageId,
    status: toProtoStatus(input.status),
    waMessageId: input.waMessageId ?? '',
    occurredAt: new Date(input.occurredAtMs ?? T0),
    source: input.source === 'delivery' ? StatusSource.STATUS_SOURCE_DELIVERY : StatusSource.STATUS_SOURCE_WEBHOOK,
    errorCode: input.errorCode ?? 0,
    errorTitle: input.errorTitle ?? '',
    attempt: input.attempt ?? 0,
    nextAttemptAt: input.nextAttemptAtMs === undefined ? undefined : new Date(input.nextAttemptAtMs),
    recipient: input.recipient ?? '',
    recipientWaId: '',
    pricing: undefined,
  }).finish();
  await publishEvent(js, input.source === 'delivery' ? subjects.deliveryEvents : subjects.receiptEvents, data, msgId);
}

/** Publishes an InboundMessageReceived as receipt would. */
export async function publishInbound(
  js: JetStreamConnection['js'],
  input: { tenantId: string; waMessageId: string; from: string; text: string; phoneNumberId?: string; occurredAtMs?: number },
): Promise<void> {
  const occurredAt = new Date(input.occurredAtMs ?? T0);
  const data = InboundMessageReceived.encode({
    eventId: `wa:in:${input.waMessageId}`,
    tenantId: input.tenantId,
    phoneNumberId: input.phoneNumberId ?? '200',
    from: input.from,
    waMessageId: input.waMessageId,
    occurredAt,
    type: 'text',
    text: input.text,
    replyId: '',
    mediaId: '',
    mimeType: '',
    contextWaMessageId: '',
    contentJson: JSON.stringify({ body: input.text }),
    serviceWindowClosesAt: new Date(occurredAt.getTime() + 24 * 3600 * 1000),
  }).finish();
  await publishEvent(js, regionSubjects(REGION).inboundEvents, data, `wa:in:${input.waMessageId}`);
}

/** An open WatchEvents call, collecting what it receives. */
export interface Watch {
  readonly events: TenantEvent[];
  readonly error: ServiceError | undefined;
  /** Set when the server ended the stream. */
  readonly status: StatusObject | undefined;
  sequences(): number[];
  /** Waits until `count` events arrived; returns them. */
  until(count: number, what?: string): Promise<TenantEvent[]>;
  /** Waits for the call to end (with OK or an error). */
  ended(): Promise<void>;
  /** Resolves when the call ends, however long it stays open (for a client that watches until the server goes). */
  readonly closed: Promise<void>;
  close(): void;
}

export function watch(address: string, apiKey: string | undefined, request: Partial<WatchEventsRequest> = {}): Watch {
  const client = new ReceiptServiceClient(address, credentials.createInsecure());
  const metadata = new Metadata();
  if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
  const call = client.watchEvents(WatchEventsRequest.fromPartial(request), metadata);
  const events: TenantEvent[] = [];
  let error: ServiceError | undefined;
  let status: StatusObject | undefined;
  let done = false;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  call.on('data', (response: WatchEventsResponse) => {
    if (response.event) events.push(response.event);
  });
  call.on('error', (e: ServiceError) => {
    error = e;
    done = true;
    markClosed();
  });
  call.on('status', (s: StatusObject) => {
    status = s;
    done = true;
    markClosed();
  });
  return {
    events,
    get error() {
      return error;
    },
    get status() {
      return status;
    },
    sequences: () => events.map((e) => Number(e.sequence)),
    until: (count, what) =>
      waitFor(() => (events.length >= count ? events.slice(0, count) : undefined), {
        what: what ?? `${count} streamed events (have ${events.length})`,
      }),
    ended: () => waitFor(() => done, { what: 'the stream to end' }).then(() => undefined),
    closed,
    close() {
      call.cancel();
      client.close();
    },
  };
}

/** What a callback receiver answers: a status code, or 'hang' (never answer). */
export type ReceiverMode = number | 'hang';

export interface ReceivedCallback {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The status it was answered with ('hang' for one never answered). */
  readonly answer: ReceiverMode;
}

/** A real HTTP server standing in for a tenant's callback endpoint. */
export interface CallbackReceiver {
  readonly url: string;
  readonly received: ReceivedCallback[];
  /** Received callbacks answered 2xx. */
  delivered(): ReceivedCallback[];
  setMode(mode: ReceiverMode | ((callback: { headers: http.IncomingHttpHeaders; body: string }) => ReceiverMode)): void;
  close(): Promise<void>;
}

export async function startCallbackReceiver(initial: ReceiverMode = 200): Promise<CallbackReceiver> {
  let decide: (callback: { headers: http.IncomingHttpHeaders; body: string }) => ReceiverMode = () => initial;
  const received: ReceivedCallback[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = decide({ headers: req.headers, body });
      received.push({ headers: req.headers, body, answer });
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer >= 200 && answer < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/waygate`,
    received,
    delivered: () => received.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300),
    setMode(mode) {
      decide = typeof mode === 'function' ? mode : () => mode;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The event id a callback carries. */
export const eventIdOf = (callback: ReceivedCallback) => String(callback.headers['waygate-event-id']);

/**
 * Verifies a callback exactly as apps/receipt/README.md ("Verifying a callback") tells tenants to: recompute
 * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, compare timing-safe, refuse timestamps more than
 * 5 minutes away from now.
 */
export function verifyWaygateSignature(secret: string, headers: http.IncomingHttpHeaders, rawBody: string, nowSeconds: number): boolean {
  const timestamp = Number(headers['waygate-timestamp']);
  const signature = String(headers['waygate-signature'] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
