import type { Collection, Filter, Sort } from 'mongodb';
import type { MessageStatus } from '@waygate/domain';
import { applyMongoMigrations, type MongoDatabase } from '@waygate/storage';
import {
  indexedFieldsOf,
  type IndexedMessage,
  type SearchFilters,
  type SearchIndex,
  type SearchIndexHit,
  type SearchIndexPage,
  type SearchPageRequest,
} from './search-index';
import { gramsOf, type SearchQuery } from './search-query';
import { buildSnippet } from './snippet';
import { FOLDED_WORD, foldedWordsOf, foldText } from './text-folding';

/**
 * The text index's language_override field. Documents never have it, so MongoDB never reads a language from a
 * document (a `language` field naming a language it does not support would otherwise make the write fail with
 * error 17262); with default_language 'none' nothing is stemmed or dropped as a stop word, in any language.
 */
const UNUSED_LANGUAGE_FIELD = 'textIndexLanguageNeverSet';
/** A search that only a regex can answer stops after this long instead of scanning on (bounded work per call). */
const REGEX_MAX_TIME_MS = 5_000;

interface SearchDocument {
  /** `${tenantId}/${recordId}`: tenant ids never contain '/'. index() upserts by it (idempotent). */
  _id: string;
  tenantId: string;
  recordId: string;
  messageId: string;
  conversationId: string;
  customer: string;
  phoneNumberId: string;
  direction: string;
  type: string;
  occurredAt: Date;
  /** NFC. Covered by the text index (ranking) and read by regexes and snippets. */
  text: string;
  /** The folded words of the text (text-folding.ts): every word term must be in it (AND, which $text does not do). */
  words: string[];
  /** The folded words in order, one space apart: a phrase term must be a run of them (a regex on this field). */
  foldedText: string;
  /** Every 1- and 2-character substring of the runs of scripts without spaces (search-query.ts gramsOf). */
  grams: string[];
  /** Outbound: the latest status, copied from search_statuses (setStatus, or the entry's while none was set). */
  status?: string;
}

interface StatusDocument {
  /** `${tenantId}/${messageId}`. */
  _id: string;
  status: string;
}

/**
 * The MongoDB SearchIndex (collections `search_messages` and `search_statuses` in the archive's database).
 *
 * - Word terms: a compound text index `{ tenantId: 1, text: 'text' }` (so every $text query is bounded to one
 *   tenant) ranks the hits by text score. $text ORs its terms, so each word term must also be in the document's
 *   folded `words` (an indexed array): every term must match; a phrase must also be a run of the folded words
 *   (a regex on `foldedText`, over the candidates the indexes found).
 * - Terms in scripts without spaces (Chinese, Thai ...): a text index tokenizes by spaces and punctuation, so it
 *   cannot find "退款" inside "我想申请退款可以吗". 1-2 character terms are looked up in the indexed `grams` array; longer
 *   ones first by their bigrams in `grams` (an indexed candidate set), then checked exactly by a case-insensitive
 *   regex on the escaped term. A query with only symbol terms (":-)") is a regex over the tenant's messages,
 *   bounded by maxTimeMS. Those hits have rank 0 (no text score) and come newest first.
 *
 * Atlas Search (a Lucene index with language analyzers and n-gram tokenizers) is the better engine on Atlas; see
 * the README.
 */
export class MongoSearchIndex implements SearchIndex {
  private constructor(
    private readonly messages: Collection<SearchDocument>,
    private readonly statuses: Collection<StatusDocument>,
  ) {}

  static async open(mongo: MongoDatabase): Promise<MongoSearchIndex> {
    const messages = mongo.db.collection<SearchDocument>('search_messages');
    const statuses = mongo.db.collection<StatusDocument>('search_statuses');
    // search (word terms): the tenant's text index; default_language 'none' and an unused language_override (above).
    await messages.createIndex(
      { tenantId: 1, text: 'text' },
      { name: 'search_text', default_language: 'none', language_override: UNUSED_LANGUAGE_FIELD },
    );
    // search (word terms: every one must be among the words).
    await messages.createIndex({ tenantId: 1, words: 1 }, { name: 'search_words' });
    // search (terms in scripts without spaces).
    await messages.createIndex({ tenantId: 1, grams: 1 }, { name: 'search_grams' });
    // search without word terms (newest first), and the time range filter.
    await messages.createIndex({ tenantId: 1, occurredAt: -1 }, { name: 'search_by_time' });
    // setStatus (copy to the message's documents) and removeCustomer.
    await messages.createIndex({ tenantId: 1, messageId: 1 }, { name: 'search_by_message' });
    await messages.createIndex({ tenantId: 1, customer: 1 }, { name: 'search_by_customer' });
    await applyMongoMigrations(mongo.db, 'archive-search', []);
    return new MongoSearchIndex(messages, statuses);
  }

  async index(message: IndexedMessage): Promise<void> {
    const { entry } = message;
    const id = `${entry.tenantId}/${entry.recordId}`;
    // Kept only while no status was set (setStatus): insert if absent.
    if (entry.status) {
      await this.statuses.updateOne(
        { _id: `${entry.tenantId}/${entry.messageId}` },
        { $setOnInsert: { status: entry.status } },
        { upsert: true },
      );
    }
    const fields = indexedFieldsOf(message);
    if (!fields) {
      await this.messages.deleteOne({ _id: id });
      return;
    }
    await this.messages.replaceOne(
      { _id: id },
      {
        ...fields,
        words: foldedWordsOf(fields.text),
        foldedText: (foldText(fields.text).match(FOLDED_WORD) ?? []).join(' '),
        grams: [...new Set(gramsOf(fields.text).split(' ').filter(Boolean))],
      },
      { upsert: true },
    );
    // The status is copied after the document is written, so a status that setStatus saved before then is not
    // lost (setStatus saves the status first, then copies it to the documents that exist).
    const status = await this.statuses.findOne({ _id: `${entry.tenantId}/${entry.messageId}` });
    if (status) await this.messages.updateOne({ _id: id }, { $set: { status: status.status } });
  }

  async setStatus(tenantId: string, messageId: string, status: MessageStatus): Promise<void> {
    // Saved first, then copied to the documents that exist; index() copies it to a document written later.
    await this.statuses.updateOne({ _id: `${tenantId}/${messageId}` }, { $set: { status } }, { upsert: true });
    await this.messages.updateMany({ tenantId, messageId }, { $set: { status } });
  }

  async remove(tenantId: string, recordId: string): Promise<boolean> {
    return (await this.messages.deleteOne({ _id: `${tenantId}/${recordId}` })).deletedCount === 1;
  }

  async removeCustomer(tenantId: string, customer: string): Promise<number> {
    return (await this.messages.deleteMany({ tenantId, customer })).deletedCount;
  }

  async search(tenantId: string, query: SearchQuery, filters: SearchFilters, page: SearchPageRequest): Promise<SearchIndexPage> {
    const words = [...new Set(query.terms.filter((t) => t.route === 'word').flatMap((t) => foldText(t.text).match(FOLDED_WORD) ?? []))];
    const substrings = query.terms.filter((t) => t.route !== 'word');
    const and: Filter<SearchDocument>[] = [];
    if (words.length > 0) and.push({ words: { $all: words } });
    for (const term of query.terms.filter((t) => t.route === 'word')) {
      const phrase = foldText(term.text).match(FOLDED_WORD) ?? [];
      if (phrase.length > 1) and.push({ foldedText: { $regex: `(^| )${phrase.map(escapeRegex).join(' ')}( |$)` } });
    }
    const grams = substrings.flatMap((t) => bigramsOf(t.text));
    if (grams.length > 0) and.push({ grams: { $all: [...new Set(grams)] } });
    for (const term of substrings) and.push({ text: { $regex: escapeRegex(term.text.normalize('NFC')), $options: 'i' } });
    const filter: Filter<SearchDocument> = {
      tenantId,
      ...(words.length > 0 ? { $text: { $search: words.join(' ') } } : {}),
      ...(filters.customer !== undefined ? { customer: filters.customer } : {}),
      ...(filters.phoneNumberId !== undefined ? { phoneNumberId: filters.phoneNumberId } : {}),
      ...(filters.direction !== undefined ? { direction: filters.direction } : {}),
      ...(filters.type !== undefined ? { type: filters.type } : {}),
      ...(filters.status !== undefined ? { direction: 'outbound', status: filters.status } : {}),
      ...(filters.from !== undefined || filters.to !== undefined
        ? { occurredAt: { ...(filters.from ? { $gte: filters.from } : {}), ...(filters.to ? { $lt: filters.to } : {}) } }
        : {}),
      ...(and.length > 0 ? { $and: and } : {}),
    };
    if (filters.direction !== undefined && filters.status !== undefined && filters.direction !== 'outbound')
      return { hits: [], hasMore: false };
    const ranked = words.length > 0;
    const sort: Sort = ranked ? { score: { $meta: 'textScore' }, occurredAt: -1, _id: -1 } : { occurredAt: -1, _id: -1 };
    const documents = await this.messages
      .find(filter, {
        projection: {
          recordId: 1,
          messageId: 1,
          conversationId: 1,
          occurredAt: 1,
          text: 1,
          ...(ranked ? { score: { $meta: 'textScore' } } : {}),
        },
        maxTimeMS: REGEX_MAX_TIME_MS,
      })
      .sort(sort)
      .skip(page.offset)
      .limit(page.limit + 1)
      .toArray();
    const hits = documents.slice(0, page.limit).map((document): SearchIndexHit => ({
      recordId: document.recordId,
      messageId: document.messageId,
      conversationId: document.conversationId,
      occurredAt: document.occurredAt,
      snippet: buildSnippet(document.text, query.terms),
      rank: ranked ? Number((document as { score?: number }).score ?? 0) : 0,
    }));
    return { hits, hasMore: documents.length > page.limit };
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (the archive's wiring).
  }
}

/** The grams a substring term of a script without spaces must have: itself when 1-2 characters, else its bigrams. */
function bigramsOf(text: string): string[] {
  const grams = gramsOf(text).split(' ').filter(Boolean);
  return [...text].length <= 2 ? grams.filter((gram) => gram === text) : grams.filter((gram) => [...gram].length === 2);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
