import {
  decodePageTokenFields,
  encodePageTokenFields,
  InvalidArgumentError,
  isE164,
  requestFingerprint,
  type ContentKind,
  type FieldViolation,
  type MessageStatus,
} from '@waygate/domain';
import type { MessageCursor, MessageQuery, MessageStore } from './message-store';
import type { OutboundMessage } from './outbound-message';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** A token this service issues is far shorter; anything longer is not one of ours. */
const MAX_PAGE_TOKEN_CHARS = 512;

/** ListMessages as the domain sees it (the handler translates from proto). */
export interface ListMessagesRequest {
  /** Empty: any recipient. */
  readonly to: string;
  /** Empty: any status. An undefined entry is a value the wire sent that names no status (UNSPECIFIED or unknown). */
  readonly statuses: readonly (MessageStatus | undefined)[];
  readonly acceptedAfter: Date | undefined;
  readonly acceptedBefore: Date | undefined;
  /** Empty: any content. An undefined entry names no content type. */
  readonly contentKinds: readonly (ContentKind | undefined)[];
  /** 0 means the default. */
  readonly pageSize: number;
  /** Empty for the first page. */
  readonly pageToken: string;
}

export interface MessagePage {
  readonly messages: readonly OutboundMessage[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** The filters in one canonical form, so a token can say which filters it belongs to. */
function filterFingerprint(query: Omit<MessageQuery, 'limit' | 'after' | 'tenantId'>): string {
  return requestFingerprint([
    query.to ?? '',
    [...(query.statuses ?? [])].sort(),
    query.acceptedFrom?.getTime() ?? null,
    query.acceptedBefore?.getTime() ?? null,
    [...(query.contentKinds ?? [])].sort(),
  ]);
}

/**
 * The opaque page token: where the next page starts (the last message's accepted time and id) and the filters it was
 * issued for, base64url-encoded JSON. It carries no secret: a client that forges one only sees its own messages.
 */
export function encodePageToken(cursor: MessageCursor, fingerprint: string): string {
  return encodePageTokenFields({ a: cursor.acceptedAt.getTime(), m: cursor.messageId, f: fingerprint });
}

/** The cursor in a token issued for these filters, or undefined for anything else. */
export function decodePageToken(token: string, fingerprint: string): MessageCursor | undefined {
  const parsed = decodePageTokenFields(token, { maxChars: MAX_PAGE_TOKEN_CHARS });
  if (!parsed || typeof parsed.a !== 'number' || !Number.isSafeInteger(parsed.a) || typeof parsed.m !== 'string' || parsed.m.length > 128)
    return undefined;
  if (parsed.f !== fingerprint) return undefined;
  return { acceptedAt: new Date(parsed.a), messageId: parsed.m };
}

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

/** The store query for a request, or InvalidArgumentError listing every bad field. */
export function toMessageQuery(tenantId: string, request: ListMessagesRequest): { query: MessageQuery; fingerprint: string } {
  const violations: FieldViolation[] = [];
  if (request.to !== '' && !isE164(request.to)) violations.push(violation('to', 'INVALID_FORMAT', 'must be E.164, e.g. +4915112345678'));
  request.statuses.forEach((status, index) => {
    if (status === undefined) violations.push(violation(`statuses[${index}]`, 'INVALID_VALUE', 'must name a status, not UNSPECIFIED'));
  });
  request.contentKinds.forEach((kind, index) => {
    if (kind === undefined)
      violations.push(violation(`content_types[${index}]`, 'INVALID_VALUE', 'must name a content type, not UNSPECIFIED'));
  });
  if (request.acceptedAfter && request.acceptedBefore && request.acceptedAfter >= request.acceptedBefore) {
    violations.push(violation('accepted_before', 'INVALID_RANGE', 'must be later than accepted_after'));
  }
  if (!Number.isInteger(request.pageSize) || request.pageSize < 0 || request.pageSize > MAX_PAGE_SIZE) {
    violations.push(violation('page_size', 'OUT_OF_RANGE', `must be 1 to ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`));
  }
  const filters = {
    ...(request.to ? { to: request.to } : {}),
    statuses: request.statuses.filter((status): status is MessageStatus => status !== undefined),
    ...(request.acceptedAfter ? { acceptedFrom: request.acceptedAfter } : {}),
    ...(request.acceptedBefore ? { acceptedBefore: request.acceptedBefore } : {}),
    contentKinds: request.contentKinds.filter((kind): kind is ContentKind => kind !== undefined),
  };
  const fingerprint = filterFingerprint(filters);
  let after: MessageCursor | undefined;
  if (request.pageToken !== '') {
    after = decodePageToken(request.pageToken, fingerprint);
    if (!after) {
      violations.push(
        violation('page_token', 'INVALID_PAGE_TOKEN', "must be a previous response's next_page_token, with the other filters unchanged"),
      );
    }
  }
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  const limit = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
  return { query: { tenantId, ...filters, ...(after ? { after } : {}), limit }, fingerprint };
}

/** One page of the tenant's messages, newest first; the token names the next page if there is one. */
export async function listMessages(store: MessageStore, tenantId: string, request: ListMessagesRequest): Promise<MessagePage> {
  const { query, fingerprint } = toMessageQuery(tenantId, request);
  // One more than asked tells whether another page follows, so the last page never ends with an empty one.
  const found = await store.listMessages({ ...query, limit: query.limit + 1 });
  const messages = found.slice(0, query.limit);
  const last = messages.at(-1);
  const nextPageToken =
    found.length > query.limit && last ? encodePageToken({ acceptedAt: last.acceptedAt, messageId: last.messageId }, fingerprint) : '';
  return { messages, nextPageToken };
}
