import { randomBytes } from 'node:crypto';
import { metrics, type Meter } from '@opentelemetry/api';
import type { CustomerDataParticipant, CustomerDataSubject } from '@waygate/domain';
import { isDataKeyUnavailableError, MalformedSealedTextError, openSealedText, type Keyring } from '@waygate/keyring';
import {
  ACK,
  erasureCompletedSubject,
  publishEvent,
  regionStreams,
  regionSubjects,
  startConsumer,
  type HandlerOutcome,
  type JetStreamConnection,
} from '@waygate/nats';
import { ErasurePartCompleted, ErasureRequested } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { Msg, Subscription } from 'nats';
import {
  EXPORT_PROTOCOL_VERSION,
  exportStartSubject,
  MAX_PAGE_TEXT_BYTES,
  MAX_SESSIONS,
  SECTION_NAME,
  SESSION_IDLE_MS,
  type ExportFragment,
  type ExportReplyMessage,
  type ExportRequestMessage,
} from './customer-export-protocol';

const SERVICE_NAME = /^[a-z][a-z-]{0,31}$/;
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CUSTOMER_REF = /^[0-9a-f]{32}$/;
const ERASURE_ID = /^er_[0-9a-f]{26}$/;
/** One request message at most this long (a sealed number and a few ids). */
const MAX_REQUEST_BYTES = 4096;
const E164 = /^\+[1-9][0-9]{6,14}$/;

export interface CustomerDataParticipantOptions {
  readonly nats: JetStreamConnection;
  readonly region: string;
  readonly keyring: Keyring;
  readonly participant: CustomerDataParticipant;
  readonly logger: Logger;
  /** JetStream's ack wait of the erasure consumer (default 30 s); erase() may run longer (progress is reported). */
  readonly ackWaitMs?: number;
  /** How long one erase() may run before it counts as failed and is retried (default 1 hour). */
  readonly eraseTimeoutMs?: number;
  /** Where the counters go (default: the global meter provider's `@waygate/governance` meter). */
  readonly meter?: Meter;
}

/** A service's running part in erasure and export. */
export interface RunningCustomerDataParticipant {
  /** Stops consuming erasure requests (after the one in flight) and answering exports (open sessions are closed). */
  stop(): Promise<void>;
}

interface Session {
  readonly iterator: AsyncIterator<{ section: string; record: Record<string, unknown> }>;
  /** A record's text not yet sent (a record longer than a page). */
  carry?: ExportFragment;
  idleTimer: NodeJS.Timeout;
  busy: boolean;
}

/**
 * Takes part in the region's erasures and customer exports for one service (issue 14, docs/governance.md): a durable
 * consumer `<service>-erasure` of ErasureRequested (GOVERNANCE stream) that opens the sealed number, runs
 * `participant.erase()` (the consumer tells JetStream it is still working while it runs), publishes
 * ErasurePartCompleted on `waygate.<region>.governance.erasure.completed.<service>` and only then acknowledges; and
 * the export responder of customer-export-protocol.ts over `participant.exportCustomer()`.
 *
 * A request whose sealed number can no longer be opened (its ephemeral key was destroyed) belongs to an erasure that
 * has already completed: it is acknowledged without erasing. A malformed or foreign request is dead-lettered.
 */
export async function startCustomerDataParticipant(options: CustomerDataParticipantOptions): Promise<RunningCustomerDataParticipant> {
  const { nats, region, keyring, participant, logger } = options;
  const service = participant.service;
  if (!SERVICE_NAME.test(service)) throw new Error(`participant service name ${JSON.stringify(service)} must match ${SERVICE_NAME}`);
  const meter = options.meter ?? metrics.getMeter('@waygate/governance');
  const parts = meter.createCounter('waygate.erasure.parts', {
    description: 'erasure requests a service handled, by service and outcome (erased, already_complete)',
  });
  const exports = meter.createCounter('waygate.customer_exports', {
    description: 'customer export sessions a service served, by service and outcome (done, cancelled, expired, failed)',
  });

  async function handleErasure(data: Uint8Array): Promise<HandlerOutcome> {
    let request: ErasureRequested;
    try {
      request = ErasureRequested.decode(data);
    } catch {
      return { kind: 'reject', reason: 'ErasureRequested does not decode' };
    }
    if (!ERASURE_ID.test(request.erasureId) || !TENANT_ID.test(request.tenantId) || !CUSTOMER_REF.test(request.customerRef))
      return { kind: 'reject', reason: 'ErasureRequested has a malformed erasure id, tenant or customer reference' };
    let customer: string;
    try {
      customer = await openSealedText(keyring, request.tenantId, request.customerSealed);
    } catch (error) {
      if (isDataKeyUnavailableError(error)) {
        // The coordinator destroys the erasure's key only once every part completed: nothing is left to do.
        parts.add(1, { service, outcome: 'already_complete' });
        logger.info({ erasure_id: request.erasureId, service }, 'erasure already complete; request acknowledged');
        return ACK;
      }
      if (error instanceof MalformedSealedTextError) return { kind: 'reject', reason: 'customer_sealed does not open' };
      throw error;
    }
    if (!E164.test(customer)) return { kind: 'reject', reason: 'customer_sealed does not hold an E.164 number' };
    if ((await keyring.customerRef(request.tenantId, customer)) !== request.customerRef)
      return { kind: 'reject', reason: 'customer_ref does not belong to the sealed number' };
    const subject: CustomerDataSubject = { tenantId: request.tenantId, customer, customerRef: request.customerRef };
    const started = Date.now();
    const counts = await participant.erase(subject, request.erasureId);
    const completed: ErasurePartCompleted = {
      erasureId: request.erasureId,
      tenantId: request.tenantId,
      service,
      completedAt: new Date(),
      counts: Object.fromEntries(Object.entries(counts).map(([kind, count]) => [kind, String(Math.max(0, Math.trunc(count)))])),
    };
    await publishEvent(
      nats.js,
      erasureCompletedSubject(region, service),
      ErasurePartCompleted.encode(completed).finish(),
      `${request.erasureId}.${service}`,
    );
    parts.add(1, { service, outcome: 'erased' });
    // Counts only: never the number.
    logger.info({ erasure_id: request.erasureId, service, counts, duration_ms: Date.now() - started }, 'erasure part completed');
    return ACK;
  }

  const consumer = await startConsumer(nats, {
    region,
    stream: regionStreams(region).governance.name,
    durable: `${service}-erasure`,
    filterSubject: regionSubjects(region).erasureRequested,
    logger,
    ...(options.ackWaitMs !== undefined ? { ackWaitMs: options.ackWaitMs } : {}),
    handlerTimeoutMs: options.eraseTimeoutMs ?? 60 * 60_000,
    handle: (data) => handleErasure(data),
  });

  // ---- export responder ----
  const instance = randomBytes(8).toString('hex');
  const prefix = regionSubjects(region).customerExport;
  const sessionSubject = `${exportStartSubject(prefix, service)}.${instance}`;
  const sessions = new Map<string, Session>();

  function reply(message: Msg, body: ExportReplyMessage): void {
    message.respond(Buffer.from(JSON.stringify(body), 'utf8'));
  }

  function closeSession(id: string, outcome: string): void {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    clearTimeout(session.idleTimer);
    exports.add(1, { service, outcome });
    void session.iterator.return?.()?.catch(() => undefined);
  }

  function touch(id: string, session: Session): void {
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => closeSession(id, 'expired'), SESSION_IDLE_MS);
    session.idleTimer.unref();
  }

  /** The next page: fragments up to the page budget, a record's rest carried over to the next page. */
  async function nextPage(session: Session): Promise<{ fragments: ExportFragment[]; done: boolean }> {
    const fragments: ExportFragment[] = [];
    let budget = MAX_PAGE_TEXT_BYTES;
    const take = (fragment: ExportFragment): void => {
      if (fragment.text.length <= budget) {
        fragments.push(fragment);
        budget -= fragment.text.length;
        session.carry = undefined;
        return;
      }
      let cut = budget;
      // Never split a surrogate pair: each fragment must be valid UTF-16 on its own.
      const code = fragment.text.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
      fragments.push({ section: fragment.section, text: fragment.text.slice(0, cut) });
      session.carry = { section: fragment.section, text: fragment.text.slice(cut) };
      budget = 0;
    };
    if (session.carry) take(session.carry);
    while (budget > 0) {
      const next = await session.iterator.next();
      if (next.done) return { fragments, done: true };
      const { section, record } = next.value;
      if (!SECTION_NAME.test(section)) throw new Error(`participant ${service} used an invalid section name`);
      take({ section, text: `${JSON.stringify(record)}\n` });
    }
    return { fragments, done: false };
  }

  async function servePage(message: Msg, id: string, session: Session): Promise<void> {
    if (session.busy) return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'busy' });
    session.busy = true;
    try {
      const page = await nextPage(session);
      reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: true, session: id, next: sessionSubject, ...page });
      if (page.done) closeSession(id, 'done');
      else touch(id, session);
    } catch (error) {
      logger.warn({ service, err: error instanceof Error ? error.name : typeof error }, 'customer export failed');
      closeSession(id, 'failed');
      reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'failed' });
    } finally {
      session.busy = false;
    }
  }

  function parseRequest(message: Msg): ExportRequestMessage | undefined {
    if (message.data.length > MAX_REQUEST_BYTES) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(message.data).toString('utf8')) as ExportRequestMessage;
      return parsed && typeof parsed === 'object' && parsed.v === EXPORT_PROTOCOL_VERSION ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async function onStart(message: Msg): Promise<void> {
    const request = parseRequest(message);
    if (
      !request ||
      request.op !== 'start' ||
      !TENANT_ID.test(request.tenantId) ||
      !CUSTOMER_REF.test(request.customerRef) ||
      typeof request.customerSealed !== 'string'
    )
      return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'bad_request' });
    if (sessions.size >= MAX_SESSIONS) return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'busy' });
    let customer: string;
    try {
      customer = await openSealedText(keyring, request.tenantId, request.customerSealed);
    } catch {
      return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'bad_request' });
    }
    if (!E164.test(customer) || (await keyring.customerRef(request.tenantId, customer)) !== request.customerRef)
      return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'bad_request' });
    const id = randomBytes(12).toString('hex');
    const iterable = participant.exportCustomer({ tenantId: request.tenantId, customer, customerRef: request.customerRef });
    const session: Session = { iterator: iterable[Symbol.asyncIterator](), idleTimer: setTimeout(() => undefined, 0), busy: false };
    sessions.set(id, session);
    touch(id, session);
    await servePage(message, id, session);
  }

  async function onSessionRequest(message: Msg): Promise<void> {
    const request = parseRequest(message);
    if (!request || (request.op !== 'next' && request.op !== 'cancel') || typeof request.session !== 'string')
      return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'bad_request' });
    const session = sessions.get(request.session);
    if (!session) return reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'unknown_session' });
    if (request.op === 'cancel') {
      closeSession(request.session, 'cancelled');
      return reply(message, {
        v: EXPORT_PROTOCOL_VERSION,
        ok: true,
        session: request.session,
        next: sessionSubject,
        fragments: [],
        done: true,
      });
    }
    await servePage(message, request.session, session);
  }

  const handleSafely = (handler: (message: Msg) => Promise<void>) => (error: Error | null, message: Msg) => {
    if (error) return;
    handler(message).catch((failure: unknown) => {
      logger.warn({ service, err: failure instanceof Error ? failure.name : typeof failure }, 'customer export request failed');
      try {
        reply(message, { v: EXPORT_PROTOCOL_VERSION, ok: false, error: 'failed' });
      } catch {
        // the connection is closing
      }
    });
  };
  const subscriptions: Subscription[] = [
    nats.nc.subscribe(exportStartSubject(prefix, service), { queue: `${service}-export`, callback: handleSafely(onStart) }),
    nats.nc.subscribe(sessionSubject, { callback: handleSafely(onSessionRequest) }),
  ];

  return {
    async stop() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      for (const id of [...sessions.keys()]) closeSession(id, 'cancelled');
      await consumer.stop();
    },
  };
}
