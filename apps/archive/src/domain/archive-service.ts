import {
  idViolations,
  InvalidArgumentError,
  isE164,
  MAX_ID_LENGTH,
  MAX_WHATSAPP_ID_LENGTH,
  NotFoundError,
  orderStatusEvents,
  validateId,
  type Clock,
  type FieldViolation,
} from '@waygate/domain';
import type { ArchiveStore } from './archive-store';
import type { ArchivedEvent, IncomingEvent } from './archived-event';
import type { ConversationFilter, ConversationSummary, TranscriptMessageEntry } from './conversation';
import { decodePageToken, encodePageToken } from './page-token';
import { isConversationId, type Sentiment, type SentimentLabel } from './transcript';

/**
 * What became of an event:
 * - 'recorded' / 'duplicate': stored now / stored before (same tenant and event id);
 * - 'homed-elsewhere' / 'unknown-tenant': not stored, because this region may only keep data of tenants homed here.
 */
export type RecordOutcome = 'recorded' | 'duplicate' | 'homed-elsewhere' | 'unknown-tenant';

export interface ArchiveService {
  /** Validates and records one event; throws InvalidArgumentError for an event that can never be recorded. */
  record(event: IncomingEvent): Promise<RecordOutcome>;
  /**
   * The tenant's events about one message (by Waygate's message id, or an inbound message's wamid), oldest first;
   * empty for an unknown message or another tenant's.
   */
  listMessageEvents(tenantId: string, messageId: string): Promise<ArchivedEvent[]>;
  /** One page of the tenant's conversations, most recently active first; throws InvalidArgumentError for a bad request. */
  listConversations(
    tenantId: string,
    request: ListConversationsRequest,
  ): Promise<{ conversations: ConversationSummary[]; nextPageToken?: string }>;
  /**
   * One page of a conversation's transcript, oldest first; throws InvalidArgumentError for a bad request and
   * NotFoundError for an unknown conversation or another tenant's.
   */
  getTranscript(
    tenantId: string,
    request: GetTranscriptRequest,
  ): Promise<{ conversation: ConversationSummary; messages: TranscriptMessageEntry[]; nextPageToken?: string }>;
}

/** ListConversations in domain terms: absent (or empty) fields do not filter. */
export interface ListConversationsRequest {
  readonly customer?: string;
  readonly phoneNumberId?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly hasUnanswered?: boolean;
  /** A SentimentLabel; anything else is refused naming `sentiment`. */
  readonly sentiment?: SentimentLabel | 'unrecognized';
  /** 0 or absent: the default. */
  readonly pageSize?: number;
  readonly pageToken?: string;
}

/** GetTranscript in domain terms. */
export interface GetTranscriptRequest {
  readonly conversationId: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

/** ListConversations' page size: default and bound. */
export const CONVERSATIONS_PAGE_SIZE = { default: 50, max: 200 } as const;
/** GetTranscript's page size: default and bound. */
export const TRANSCRIPT_PAGE_SIZE = { default: 200, max: 1000 } as const;

/** A warning sink for the domain (the wiring passes the service's logger); never given message content. */
export interface WarningLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ArchiveServiceDeps {
  readonly store: ArchiveStore;
  /** The home region of a tenant, or undefined if the platform does not know it. */
  readonly homeRegionOf: (tenantId: string) => string | undefined;
  /** The region this process serves. */
  readonly region: string;
  readonly clock: Clock;
  /**
   * Language and sentiment of a customer's text (the analysis slice supplies it). Optional: without it inbound
   * messages stay unscored. Its failure never loses or delays a record: the message is recorded unscored.
   */
  readonly analyzeText?: (text: string) => Promise<Sentiment>;
  /** Where an analyser failure is reported (tenant and message ids only). */
  readonly log?: WarningLog;
}

function required(field: string, value: string): FieldViolation[] {
  return value ? [] : [{ field, reason: 'REQUIRED', description: 'is required' }];
}

/** Every reason `event` cannot be archived. Descriptions never echo values: they end up in logs. */
function validateEvent(event: IncomingEvent): FieldViolation[] {
  const violations = [
    ...required('event_id', event.eventId),
    ...required('tenant_id', event.tenantId),
    ...required('message_id', event.messageId),
  ];
  if (Number.isNaN(event.occurredAt.getTime()))
    violations.push({ field: 'occurred_at', reason: 'INVALID_FORMAT', description: 'must be a valid time' });
  if (event.kind === 'accepted') {
    if (!isE164(event.recipient)) violations.push({ field: 'to', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
    violations.push(...required('phone_number_id', event.phoneNumberId));
  }
  if (event.kind === 'inbound') {
    if (!isE164(event.from)) violations.push({ field: 'from', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
    violations.push(...required('phone_number_id', event.phoneNumberId));
  }
  return violations;
}

function pageSizeViolations(requested: number | undefined, bounds: { default: number; max: number }): FieldViolation[] {
  if (requested === undefined || (Number.isInteger(requested) && requested >= 0 && requested <= bounds.max)) return [];
  return [{ field: 'page_size', reason: 'OUT_OF_RANGE', description: `must be between 1 and ${bounds.max} (0: ${bounds.default})` }];
}

/** The page size of a valid request (see pageSizeViolations). */
function pageSizeOf(requested: number | undefined, bounds: { default: number; max: number }): number {
  return requested === undefined || requested === 0 ? bounds.default : requested;
}

function rangeViolations(from: Date | undefined, to: Date | undefined): FieldViolation[] {
  const violations: FieldViolation[] = [];
  for (const [field, value] of [
    ['from', from],
    ['to', to],
  ] as const)
    if (value !== undefined && Number.isNaN(value.getTime()))
      violations.push({ field, reason: 'INVALID_FORMAT', description: 'must be a valid time' });
  if (violations.length === 0 && from !== undefined && to !== undefined && from.getTime() >= to.getTime())
    violations.push({ field: 'to', reason: 'INVALID_RANGE', description: 'must be after from' });
  return violations;
}

/** The filter of a ListConversations request (empty strings and false do not filter). */
function filterOf(request: ListConversationsRequest): ConversationFilter {
  return {
    ...(request.customer ? { customer: request.customer } : {}),
    ...(request.phoneNumberId ? { phoneNumberId: request.phoneNumberId } : {}),
    ...(request.from ? { from: request.from } : {}),
    ...(request.to ? { to: request.to } : {}),
    ...(request.hasUnanswered ? { hasUnanswered: true } : {}),
    ...(request.sentiment && request.sentiment !== 'unrecognized' ? { sentiment: request.sentiment } : {}),
  };
}

/** Scores a customer's text before it is recorded; any failure leaves it unscored (logged without the text). */
async function scoreInbound(event: IncomingEvent, deps: ArchiveServiceDeps): Promise<IncomingEvent> {
  if (event.kind !== 'inbound' || !deps.analyzeText || !event.text || event.sentiment) return event;
  try {
    const sentiment = await deps.analyzeText(event.text);
    return { ...event, sentiment };
  } catch (error) {
    deps.log?.warn(
      { tenant_id: event.tenantId, message_id: event.messageId, error: error instanceof Error ? error.name : 'unknown' },
      'text analysis failed; message archived unscored',
    );
    return event;
  }
}

export function createArchiveService(deps: ArchiveServiceDeps): ArchiveService {
  const { store, homeRegionOf, region, clock } = deps;
  return {
    async record(event) {
      const violations = validateEvent(event);
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      // Checked before anything is written: another region's tenant data must not land in this region's store.
      const homeRegion = homeRegionOf(event.tenantId);
      if (homeRegion === undefined) return 'unknown-tenant';
      if (homeRegion !== region) return 'homed-elsewhere';
      const scored = await scoreInbound(event, deps);
      return store.record({ ...scored, recordedAt: clock.now() });
    },

    async listConversations(tenantId, request) {
      const violations: FieldViolation[] = [];
      if (request.customer && !isE164(request.customer))
        violations.push({ field: 'customer', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
      if (request.phoneNumberId) violations.push(...idViolations('phone_number_id', request.phoneNumberId, MAX_ID_LENGTH));
      if (request.sentiment === 'unrecognized')
        violations.push({ field: 'sentiment', reason: 'INVALID_VALUE', description: 'is not a known sentiment label' });
      violations.push(...rangeViolations(request.from, request.to), ...pageSizeViolations(request.pageSize, CONVERSATIONS_PAGE_SIZE));
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const size = pageSizeOf(request.pageSize, CONVERSATIONS_PAGE_SIZE);
      const filter = filterOf(request);
      const after = request.pageToken ? decodePageToken('conversations', request.pageToken, filter) : undefined;
      const page = await store.listConversations(tenantId, filter, { size, ...(after ? { after } : {}) });
      return {
        conversations: [...page.items],
        ...(page.next ? { nextPageToken: encodePageToken('conversations', page.next, filter) } : {}),
      };
    },

    async getTranscript(tenantId, request) {
      const violations: FieldViolation[] = [];
      if (!request.conversationId) violations.push({ field: 'conversation_id', reason: 'REQUIRED', description: 'is required' });
      else if (!isConversationId(request.conversationId))
        violations.push({ field: 'conversation_id', reason: 'INVALID_FORMAT', description: 'is not a conversation id' });
      violations.push(...rangeViolations(request.from, request.to), ...pageSizeViolations(request.pageSize, TRANSCRIPT_PAGE_SIZE));
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const size = pageSizeOf(request.pageSize, TRANSCRIPT_PAGE_SIZE);
      const range = { ...(request.from ? { from: request.from } : {}), ...(request.to ? { to: request.to } : {}) };
      const scope = { conversationId: request.conversationId, ...range };
      const after = request.pageToken ? decodePageToken('transcript', request.pageToken, scope) : undefined;
      const conversation = await store.getConversation(tenantId, request.conversationId);
      if (!conversation) throw new NotFoundError('conversation', request.conversationId);
      const page = await store.transcriptPage(tenantId, request.conversationId, range, { size, ...(after ? { after } : {}) });
      return {
        conversation,
        messages: [...page.items],
        ...(page.next ? { nextPageToken: encodePageToken('transcript', page.next, scope) } : {}),
      };
    },

    async listMessageEvents(tenantId, messageId) {
      // Waygate's message ids or, for inbound messages, WhatsApp's: bounded like every id, at WhatsApp's length.
      validateId('message_id', messageId, MAX_WHATSAPP_ID_LENGTH);
      const events = await store.listByMessage(tenantId, messageId);
      // A wamid is never a Waygate message id, so an id names either one inbound message or one outbound message.
      const inbound = events.filter((event) => event.kind === 'inbound');
      const outbound = events.filter((event) => event.kind !== 'inbound');
      // Stored oldest first by raw time; shown in the order people expect despite WhatsApp's whole-second stamps.
      return [...inbound, ...orderStatusEvents(outbound)];
    },
  };
}
