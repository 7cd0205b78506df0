import { InvalidArgumentError, isE164, requestFingerprint, type FieldViolation, type MessageStatus } from '@waygate/domain';
import type { TranscriptMessageEntry } from '../domain/conversation';
import type { Direction } from '../domain/transcript';
import type { SearchFilters, SearchIndex, SearchIndexHit } from './search-index';
import { decodeSearchPageToken, encodeSearchPageToken, MAX_SEARCH_OFFSET } from './search-page-token';
import { parseSearchQuery, type SearchQuery } from './search-query';

/** SearchMessages as the handler hands it over: empty strings and absent values do not filter. */
export interface SearchMessagesInput {
  readonly query: string;
  readonly customer: string;
  readonly phoneNumberId: string;
  readonly direction?: Direction;
  readonly type: string;
  readonly status?: MessageStatus;
  readonly from?: Date;
  readonly to?: Date;
  /** 1-100; 0 means {@link DEFAULT_SEARCH_PAGE_SIZE}. */
  readonly pageSize: number;
  readonly pageToken: string;
}

/** One hit: the whole message, its snippet and rank. */
export interface MessageSearchHit {
  readonly entry: TranscriptMessageEntry;
  readonly snippet: string;
  readonly rank: number;
}

export interface MessageSearchResult {
  readonly hits: readonly MessageSearchHit[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export const DEFAULT_SEARCH_PAGE_SIZE = 20;
export const MAX_SEARCH_PAGE_SIZE = 100;
const PHONE_NUMBER_ID = /^[0-9]{1,64}$/;
const MESSAGE_TYPE = /^[a-z_]{1,32}$/;

/** The hits' messages by record id, from the archive store (its read side); messages it does not have are left out. */
export type LoadTranscriptEntries = (
  tenantId: string,
  hits: readonly Pick<SearchIndexHit, 'recordId' | 'conversationId' | 'occurredAt'>[],
) => Promise<ReadonlyMap<string, TranscriptMessageEntry>>;

export interface MessageSearch {
  /** Validates `input` (InvalidArgumentError naming every bad field, never quoting it) and returns one page of hits. */
  search(tenantId: string, input: SearchMessagesInput): Promise<MessageSearchResult>;
}

interface ValidSearch {
  readonly query: SearchQuery;
  readonly filters: SearchFilters;
  readonly pageSize: number;
}

function validate(input: SearchMessagesInput): { search: ValidSearch; violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  const parsed = parseSearchQuery(input.query);
  if ('violations' in parsed) violations.push(...parsed.violations);
  if (input.customer && !isE164(input.customer)) {
    violations.push({ field: 'customer', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
  }
  if (input.phoneNumberId && !PHONE_NUMBER_ID.test(input.phoneNumberId)) {
    violations.push({
      field: 'phone_number_id',
      reason: 'INVALID_FORMAT',
      description: 'must be a WhatsApp phone number id (1-64 digits)',
    });
  }
  if (input.type && !MESSAGE_TYPE.test(input.type)) {
    violations.push({ field: 'type', reason: 'INVALID_FORMAT', description: "must be a WhatsApp message type such as 'text' or 'image'" });
  }
  for (const [field, value] of [
    ['from', input.from],
    ['to', input.to],
  ] as const) {
    if (value && Number.isNaN(value.getTime())) violations.push({ field, reason: 'INVALID_FORMAT', description: 'must be a valid time' });
  }
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    violations.push({ field: 'to', reason: 'INVALID_RANGE', description: 'must be after from' });
  }
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > MAX_SEARCH_PAGE_SIZE) {
    violations.push({
      field: 'page_size',
      reason: 'OUT_OF_RANGE',
      description: `must be 1-${MAX_SEARCH_PAGE_SIZE} (0 means ${DEFAULT_SEARCH_PAGE_SIZE})`,
    });
  }
  const filters: SearchFilters = {
    ...(input.customer ? { customer: input.customer } : {}),
    ...(input.phoneNumberId ? { phoneNumberId: input.phoneNumberId } : {}),
    ...(input.direction ? { direction: input.direction } : {}),
    ...(input.type ? { type: input.type } : {}),
    ...(input.status ? { status: input.status } : {}),
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
  };
  return {
    search: { query: 'query' in parsed ? parsed.query : { terms: [] }, filters, pageSize: input.pageSize || DEFAULT_SEARCH_PAGE_SIZE },
    violations,
  };
}

/**
 * SearchMessages: validation, paging and the join of the index's hits with the archive's messages. The index holds
 * what it needs to match, filter and build snippets; the hit's message comes whole from the archive store, so a
 * hit shows exactly what GetTranscript shows.
 */
export function createMessageSearch(deps: { readonly index: SearchIndex; readonly loadEntries: LoadTranscriptEntries }): MessageSearch {
  return {
    async search(tenantId, input) {
      const { search, violations } = validate(input);
      const fingerprint = requestFingerprint([search.query.terms, search.filters, search.pageSize]);
      const offset = input.pageToken ? decodeSearchPageToken(input.pageToken, fingerprint) : 0;
      if (offset === undefined) {
        violations.push({
          field: 'page_token',
          reason: 'INVALID',
          description: 'is not a page token of this search (query, filters and page size)',
        });
      }
      if (violations.length > 0 || offset === undefined) throw new InvalidArgumentError(violations);
      const page = await deps.index.search(tenantId, search.query, search.filters, { offset, limit: search.pageSize });
      const entries = await deps.loadEntries(tenantId, page.hits);
      const hits = page.hits.flatMap((hit): MessageSearchHit[] => {
        const entry = entries.get(hit.recordId);
        // Indexed but no longer in the archive (erased): not shown.
        return entry ? [{ entry, snippet: hit.snippet, rank: hit.rank }] : [];
      });
      const next = offset + search.pageSize;
      return { hits, nextPageToken: page.hasMore && next <= MAX_SEARCH_OFFSET ? encodeSearchPageToken(next, fingerprint) : '' };
    },
  };
}
