import type { ContentKind, CustomerDataSubject, MessageStatus } from '@waygate/domain';
import type { OutboundMessage, TimelineEntry } from './outbound-message';

/** A status change to record, applied only if the message is still at `expectedVersion`. */
export interface StatusChangeRecord {
  readonly tenantId: string;
  readonly messageId: string;
  readonly expectedVersion: number;
  readonly status: MessageStatus;
  readonly waMessageId?: string;
  readonly entry: TimelineEntry;
}

/**
 * What applying a status report reads of a message: no content, so nothing is opened (issue 15: reading the whole
 * message cost every status event two decryptions and a JSON parse).
 */
export interface MessageStatusState {
  readonly status: MessageStatus;
  readonly version: number;
  readonly waMessageId?: string;
  /** The event ids of its timeline: a report whose event id is among them was applied already. */
  readonly eventIds: ReadonlySet<string>;
}

/** Where a page of ListMessages starts: just after (older than) this message. */
export interface MessageCursor {
  readonly acceptedAt: Date;
  readonly messageId: string;
}

/** One page of a tenant's messages: every filter given must match (an empty list or undefined matches all). */
export interface MessageQuery {
  readonly tenantId: string;
  readonly to?: string;
  readonly statuses?: readonly MessageStatus[];
  /** Accepted at or after. */
  readonly acceptedFrom?: Date;
  /** Accepted strictly before. */
  readonly acceptedBefore?: Date;
  readonly contentKinds?: readonly ContentKind[];
  /** Only messages strictly after this one in the order (accepted_at, message_id) descending. */
  readonly after?: MessageCursor;
  readonly limit: number;
}

/**
 * The request hash an erased message keeps: the SHA-256 of a short request could be matched against guessed texts.
 * A SendMessage retried with an erased message's idempotency key is ALREADY_EXISTS (another request).
 */
export const ERASED_REQUEST_HASH = 'erased';

/** Ingress's storage port. Every method is scoped by tenant. */
export interface MessageStore {
  /**
   * Stores `message` unless the tenant already has one with its idempotency key; returns the stored one either way.
   * Atomic: two concurrent calls with one key store one message.
   */
  insertIfAbsent(message: OutboundMessage): Promise<{ inserted: boolean; message: OutboundMessage }>;
  /** The tenant's message with this idempotency key, if any (a retried SendMessage is answered from it). */
  findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<OutboundMessage | undefined>;
  /** The message with its timeline in the order entries were recorded. */
  get(tenantId: string, messageId: string): Promise<OutboundMessage | undefined>;
  /** The message's status, version, wamid and timeline event ids, as {@link get} would read them; content unopened. */
  getStatusState(tenantId: string, messageId: string): Promise<MessageStatusState | undefined>;
  /**
   * Appends the timeline entry and sets status (and waMessageId when given; undefined keeps it); false (and no
   * change) if the version moved on meanwhile, or if the timeline already has an entry with the entry's event id. When the new status is terminal (FAILED, EXPIRED, CANCELED) the
   * message's content (every content field, whatever its kind) is deleted in the same write; its metadata
   * (ids, recipient, timestamps, status, timeline, errors) and idempotency key and request hash stay.
   */
  recordStatusChange(change: StatusChangeRecord): Promise<boolean>;
  markPublished(tenantId: string, messageId: string): Promise<void>;
  /**
   * Messages whose MessageAccepted has not reached JetStream, accepted before `before`, oldest first. A message
   * whose content was deleted is never listed: there is nothing left to deliver.
   */
  listUnpublished(before: Date, limit: number): Promise<OutboundMessage[]>;
  /**
   * The tenant's messages matching the query, newest first: by accepted time, then message id, both descending (a
   * total order, so a page cursor never skips or repeats a message). At most `limit`.
   */
  listMessages(query: MessageQuery): Promise<OutboundMessage[]>;
  /**
   * Erasure (issue 14): deletes the content and summary of every message of the tenant to `subject.customer` and
   * pseudonymises what stays for billing and audit (the recipient becomes `subject.customerRef`; the request hash
   * {@link ERASED_REQUEST_HASH}); ids, status, timeline, times, content type and wamids stay. Idempotent; returns how
   * many messages it changed. Such messages read like ones whose content was deleted, with summary `<type> (erased)`.
   */
  eraseCustomer(subject: CustomerDataSubject): Promise<number>;
  /** Makes deletions reach the files (SQLite: WAL checkpoint with TRUNCATE; a no-op where the backend does it). */
  flushDeleted(): Promise<void>;
  close(): Promise<void>;
}
