import type { CustomerSealer } from '@waygate/keyring';
import type { ArchiveLogLeaf } from '../domain/archive-log';
import { readConversations, readTranscript, type ArchiveStore, type CustomerErasure } from '../domain/archive-store';
import type { AcceptedArchivedEvent, ArchivedEvent, InboundArchivedEvent } from '../domain/archived-event';
import type {
  ConversationCursor,
  ConversationFilter,
  ConversationSummary,
  Page,
  PageRequest,
  TimeRange,
  TranscriptCursor,
  TranscriptMessageEntry,
} from '../domain/conversation';

/** The content fields of a record: sealed at rest under the customer's data key. */
const ACCEPTED_CONTENT = ['textBody', 'contentSummary', 'contentJson', 'text'] as const;
const INBOUND_CONTENT = ['text', 'contentJson', 'searchText'] as const;
const ENTRY_CONTENT = ['text', 'contentJson'] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Each present `fields` value replaced by `transform(value)`; a field it maps to undefined is dropped. */
async function mapFields<T extends object, K extends keyof T & string>(
  item: T,
  fields: readonly K[],
  transform: (value: string) => Promise<string | undefined>,
): Promise<T> {
  let copy: Mutable<T> | undefined;
  for (const field of fields) {
    const value = item[field];
    if (typeof value !== 'string') continue;
    copy ??= { ...item };
    const mapped = await transform(value);
    if (mapped === undefined) delete copy[field];
    else (copy as Record<string, unknown>)[field] = mapped;
  }
  return copy ?? item;
}

/** `stored` with the content fields it holds (sealed) taken from `plain` (the same event before sealing). Pure. */
function withContentOf(stored: ArchivedEvent, plain: ArchivedEvent): ArchivedEvent {
  if (stored.kind === 'status' || stored.kind !== plain.kind) return stored;
  const fields: readonly string[] = stored.kind === 'accepted' ? ACCEPTED_CONTENT : INBOUND_CONTENT;
  const copy: Record<string, unknown> = { ...stored };
  const source = plain as unknown as Record<string, unknown>;
  for (const field of fields) if (typeof copy[field] === 'string' && typeof source[field] === 'string') copy[field] = source[field];
  return copy as unknown as ArchivedEvent;
}

/**
 * The archive's content at rest under each customer's data key (issue 14): wraps any ArchiveStore (SQLite, MongoDB),
 * sealing a record's text and content (an accepted message's text, content and summary; an inbound message's text,
 * content and searchable text) with the customer's key before the store writes it, and opening them on every read
 * (records, transcripts, and so export, analysis and the search join). Whatever is read after the customer's key was
 * destroyed (erasure) reads as absent. Metadata (numbers, ids, times, statuses, pricing, sentiment) stays readable to
 * the store: it is queried on. The search index keeps plaintext by design (it is built from what this store returns,
 * and erasure deletes the customer's rows there).
 */
export class SealedArchiveStore implements ArchiveStore {
  constructor(
    private readonly inner: ArchiveStore,
    private readonly cipher: CustomerSealer,
  ) {}

  async record(event: ArchivedEvent): Promise<'recorded' | 'duplicate'> {
    // The log entry commits to the plaintext (what exports carry): the stored event with its sealed fields mapped back.
    return this.inner.record(await this.seal(event), (stored) => withContentOf(stored, event));
  }

  async listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]> {
    const events = await this.inner.listByMessage(tenantId, messageId);
    return Promise.all(events.map((event) => this.openEvent(event)));
  }

  getConversation(tenantId: string, conversationId: string): Promise<ConversationSummary | undefined> {
    return this.inner.getConversation(tenantId, conversationId);
  }

  listConversations(
    tenantId: string,
    filter: ConversationFilter,
    page: PageRequest<ConversationCursor>,
  ): Promise<Page<ConversationSummary, ConversationCursor>> {
    return this.inner.listConversations(tenantId, filter, page);
  }

  async transcriptPage(
    tenantId: string,
    conversationId: string,
    range: TimeRange,
    page: PageRequest<TranscriptCursor>,
  ): Promise<Page<TranscriptMessageEntry, TranscriptCursor>> {
    const result = await this.inner.transcriptPage(tenantId, conversationId, range, page);
    const open = (value: string) => this.cipher.open(tenantId, value);
    const items = await Promise.all(result.items.map((entry) => mapFields(entry, ENTRY_CONTENT, open)));
    return { ...result, items };
  }

  transcript(tenantId: string, conversationId: string, range: TimeRange = {}): AsyncIterable<TranscriptMessageEntry> {
    return readTranscript(this, tenantId, conversationId, range);
  }

  conversations(tenantId: string, filter: ConversationFilter = {}): AsyncIterable<ConversationSummary> {
    return readConversations(this, tenantId, filter);
  }

  eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<CustomerErasure> {
    return this.inner.eraseCustomer(tenantId, customer, customerRef);
  }

  shredRecordSalts(tenantId: string, recordIds: readonly string[]): Promise<number> {
    return this.inner.shredRecordSalts(tenantId, recordIds);
  }

  logSize(tenantId: string): Promise<number> {
    return this.inner.logSize(tenantId);
  }

  logRoot(tenantId: string, treeSize: number): Promise<Buffer> {
    return this.inner.logRoot(tenantId, treeSize);
  }

  logLeaf(tenantId: string, recordId: string): Promise<ArchiveLogLeaf | undefined> {
    return this.inner.logLeaf(tenantId, recordId);
  }

  logInclusionProof(tenantId: string, leafIndex: number, treeSize: number): Promise<Buffer[]> {
    return this.inner.logInclusionProof(tenantId, leafIndex, treeSize);
  }

  logConsistencyProof(tenantId: string, firstSize: number, secondSize: number): Promise<Buffer[]> {
    return this.inner.logConsistencyProof(tenantId, firstSize, secondSize);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async seal(event: ArchivedEvent): Promise<ArchivedEvent> {
    if (event.kind === 'status') return event;
    const customer = event.kind === 'accepted' ? event.recipient : event.from;
    const seal = (value: string) => this.cipher.seal(event.tenantId, customer, value);
    return event.kind === 'accepted'
      ? mapFields<AcceptedArchivedEvent, (typeof ACCEPTED_CONTENT)[number]>(event, ACCEPTED_CONTENT, seal)
      : mapFields<InboundArchivedEvent, (typeof INBOUND_CONTENT)[number]>(event, INBOUND_CONTENT, seal);
  }

  private async openEvent(event: ArchivedEvent): Promise<ArchivedEvent> {
    if (event.kind === 'status') return event;
    const open = (value: string) => this.cipher.open(event.tenantId, value);
    return event.kind === 'accepted'
      ? mapFields<AcceptedArchivedEvent, (typeof ACCEPTED_CONTENT)[number]>(event, ACCEPTED_CONTENT, open)
      : mapFields<InboundArchivedEvent, (typeof INBOUND_CONTENT)[number]>(event, INBOUND_CONTENT, open);
  }
}
