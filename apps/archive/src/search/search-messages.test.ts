import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { InvalidArgumentError } from '@waygate/domain';
import { createTempDir } from '@waygate/testing';
import type { TranscriptMessageEntry } from '../domain/conversation';
import { conversationIdOf } from '../domain/transcript';
import { createMessageSearch, type MessageSearch, type SearchMessagesInput } from './search-messages';
import { SqliteSearchIndex } from './sqlite-search-index';

const KEY = { tenantId: 'acme', phoneNumberId: '200', customer: '+4915112345678' };

function entry(i: number, text: string): TranscriptMessageEntry {
  return {
    recordId: `wa:in:m${i}`,
    tenantId: 'acme',
    conversationId: conversationIdOf(KEY),
    messageId: `m${i}`,
    direction: 'inbound',
    type: 'text',
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    text,
    mediaIds: [],
    statuses: [],
    sessionIndex: 0,
  };
}

const BASE: SearchMessagesInput = { query: 'hello', customer: '', phoneNumberId: '', type: '', pageSize: 0, pageToken: '' };

/** A search over a real SQLite index, with the archive's entries in a map (the store's read side). */
async function withSearch(
  texts: readonly string[],
  run: (search: MessageSearch, archived: Map<string, TranscriptMessageEntry>) => Promise<void>,
) {
  const dir = createTempDir('waygate-search-messages-');
  const index = SqliteSearchIndex.openFile(path.join(dir.path, 'archive.sqlite'));
  const archived = new Map<string, TranscriptMessageEntry>();
  try {
    for (const [i, text] of texts.entries()) {
      const e = entry(i, text);
      archived.set(e.recordId, e);
      await index.index({ entry: e, conversation: KEY });
    }
    const loadEntries = async (_tenantId: string, hits: readonly { recordId: string }[]) =>
      new Map(
        hits
          .map((hit) => hit.recordId)
          .flatMap((id): [string, TranscriptMessageEntry][] =>
            archived.has(id) ? [[id, archived.get(id) as TranscriptMessageEntry]] : [],
          ),
      );
    await run(createMessageSearch({ index, loadEntries }), archived);
  } finally {
    await index.close();
    dir.remove();
  }
}

async function violationsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => assert.fail('expected INVALID_ARGUMENT'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof InvalidArgumentError);
  return error.violations.map((v) => `${v.field}:${v.reason}`).sort();
}

test('pages with an opaque token bound to the query, filters and page size', () =>
  withSearch(
    Array.from({ length: 45 }, (_, i) => `hello ${i}`),
    async (search) => {
      const first = await search.search('acme', BASE);
      assert.equal(first.hits.length, 20, 'page size 0 means 20');
      assert.ok(first.hits[0]?.entry.text?.startsWith('hello'));
      assert.match(first.hits[0]?.snippet ?? '', /^\[hello\] \d+$/u);
      const second = await search.search('acme', { ...BASE, pageToken: first.nextPageToken });
      const third = await search.search('acme', { ...BASE, pageToken: second.nextPageToken });
      assert.equal(third.hits.length, 5);
      assert.equal(third.nextPageToken, '', 'the last page has no token');
      const ids = [...first.hits, ...second.hits, ...third.hits].map((hit) => hit.entry.recordId);
      assert.equal(new Set(ids).size, 45);
      assert.deepEqual(await violationsOf(search.search('acme', { ...BASE, query: 'other', pageToken: first.nextPageToken })), [
        'page_token:INVALID',
      ]);
      assert.deepEqual(await violationsOf(search.search('acme', { ...BASE, pageSize: 10, pageToken: first.nextPageToken })), [
        'page_token:INVALID',
      ]);
      assert.deepEqual(await violationsOf(search.search('acme', { ...BASE, pageToken: 'garbage' })), ['page_token:INVALID']);
    },
  ));

test('leaves out a hit the archive no longer has', () =>
  withSearch(['hello a', 'hello b'], async (search, archived) => {
    archived.delete('wa:in:m0');
    const result = await search.search('acme', BASE);
    assert.deepEqual(
      result.hits.map((hit) => hit.entry.recordId),
      ['wa:in:m1'],
    );
  }));

test('names every bad field, never quoting it', () =>
  withSearch([], async (search) => {
    assert.deepEqual(
      await violationsOf(
        search.search('acme', {
          query: '',
          customer: 'not-a-number',
          phoneNumberId: 'abc',
          type: 'DROP TABLE',
          from: new Date(2000),
          to: new Date(1000),
          pageSize: 101,
          pageToken: '',
        }),
      ),
      [
        'customer:INVALID_FORMAT',
        'page_size:OUT_OF_RANGE',
        'phone_number_id:INVALID_FORMAT',
        'query:REQUIRED',
        'to:INVALID_RANGE',
        'type:INVALID_FORMAT',
      ],
    );
    assert.deepEqual(await violationsOf(search.search('acme', { ...BASE, pageSize: -1 })), ['page_size:OUT_OF_RANGE']);
    assert.deepEqual(await violationsOf(search.search('acme', { ...BASE, query: '*' })), ['query:NOTHING_TO_SEARCH']);
    const error = await search.search('acme', { ...BASE, customer: '+49 secret' }).catch((e: unknown) => e);
    assert.ok(error instanceof Error && !error.message.includes('secret'));
  }));
