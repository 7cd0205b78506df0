import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { InvalidArgumentError, NotFoundError } from '@waygate/domain';
import type { TranscriptEntry } from '../../domain/transcript';
import { csvCell } from './csv-format';
import { writeBundle, type BundleManifest, type ExportSource } from './export-bundle';
import type { ExportConversation, ExportEntry, MessageRecord } from './export-record';
import { createExportService, validateExportRequest, type ExportReader, type ExportRequest } from './export-service';
import type { BundleChunk } from './file-chunker';

const T0 = Date.UTC(2025, 0, 1, 9, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

const ALICE: ExportConversation = { conversationId: 'cv_alice', phoneNumberId: '200', customer: '+4915112345678', firstMessageAt: at(0) };
const BOB: ExportConversation = { conversationId: 'cv_bob', phoneNumberId: '200', customer: '+4915112345679' };

function inbound(conversation: ExportConversation, n: number, fields: Partial<TranscriptEntry> = {}): TranscriptEntry {
  return {
    recordId: `wa:in:wamid.${conversation.conversationId}.${n}`,
    tenantId: 'acme',
    conversationId: conversation.conversationId,
    messageId: `wamid.${conversation.conversationId}.${n}`,
    waMessageId: `wamid.${conversation.conversationId}.${n}`,
    direction: 'inbound',
    type: 'text',
    occurredAt: at(n),
    text: `hello ${n}`,
    contentJson: JSON.stringify({ body: `hello ${n}` }),
    mediaIds: [],
    statuses: [],
    ...fields,
  };
}

function outbound(conversation: ExportConversation, n: number, fields: Partial<ExportEntry> = {}): ExportEntry {
  return {
    recordId: `accepted:msg_${conversation.conversationId}_${n}`,
    tenantId: 'acme',
    conversationId: conversation.conversationId,
    messageId: `msg_${conversation.conversationId}_${n}`,
    waMessageId: `wamid.out.${n}`,
    direction: 'outbound',
    type: 'template',
    occurredAt: at(n),
    text: 'Your order shipped',
    contentJson: JSON.stringify({ template: { name: 'order_shipped' } }),
    mediaIds: ['med_header_1'],
    templateName: 'order_shipped',
    templateCategory: 'UTILITY',
    contextWaMessageId: `wamid.${conversation.conversationId}.0`,
    statuses: [
      { status: 'SENT', occurredAt: at(n + 1) },
      {
        status: 'DELIVERED',
        occurredAt: at(n + 2),
        pricing: { billable: true, pricingModel: 'PMP', type: 'regular', category: 'utility' },
      },
      { status: 'FAILED', occurredAt: at(n + 3), errorCode: 131026, errorTitle: 'Message undeliverable' },
    ],
    status: 'DELIVERED',
    sessionIndex: 1,
    ...fields,
  };
}

/** Text a spreadsheet or a browser would execute, and CSV's special characters. */
const HOSTILE_TEXT = '=HYPERLINK("http://evil","click"), <script>alert(1)</script>\r\nline two & "quoted"';

const MESSAGES = new Map<string, ExportEntry[]>([
  [
    ALICE.conversationId,
    [
      inbound(ALICE, 0, { sentiment: { language: 'de', score: -0.5, label: 'negative' } }),
      outbound(ALICE, 1),
      inbound(ALICE, 5, { type: 'image', text: HOSTILE_TEXT, mediaIds: ['med_photo_1'] }),
      inbound(ALICE, 6, { type: 'location', text: undefined, contentJson: '{"latitude":52.5,"name":"<b>HQ</b>"}' }),
    ],
  ],
  [BOB.conversationId, [inbound(BOB, 2, { text: '@SUM(A1:A9)' }), outbound(BOB, 3, { text: '-1+1', statuses: [], status: 'ACCEPTED' })]],
]);

interface SourceProbe {
  source: ExportSource;
  conversationPasses: number;
  transcriptPasses: number;
}

function listSource(conversations: readonly ExportConversation[] = [ALICE, BOB]): SourceProbe {
  const probe: SourceProbe = {
    conversationPasses: 0,
    transcriptPasses: 0,
    source: {
      async *conversations() {
        probe.conversationPasses++;
        yield* conversations;
      },
      async *transcript(conversation) {
        probe.transcriptPasses++;
        yield* MESSAGES.get(conversation.conversationId) ?? [];
      },
    },
  };
  return probe;
}

/** Reassembles the chunk stream into files, checking the stream's shape (files one after another, each ended once). */
async function collect(chunks: AsyncIterable<BundleChunk>, maxChunk = Number.POSITIVE_INFINITY): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer[]>();
  let open: string | undefined;
  for await (const chunk of chunks) {
    assert.ok(chunk.data.length <= maxChunk, `a chunk of ${chunk.data.length} bytes is over ${maxChunk}`);
    if (open === undefined) {
      assert.ok(!files.has(chunk.path), `${chunk.path} streamed twice`);
      files.set(chunk.path, []);
      open = chunk.path;
    }
    assert.equal(chunk.path, open, 'a file started before the previous one ended');
    files.get(open)?.push(chunk.data);
    if (chunk.lastChunk) open = undefined;
  }
  assert.equal(open, undefined, 'the last file was not ended');
  return new Map([...files].map(([path, parts]) => [path, Buffer.concat(parts)]));
}

/** A small RFC 4180 parser (quoted fields, doubled quotes, CRLF), to read the CSV back as a spreadsheet would. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  assert.equal(cell + row.join(''), '', 'the CSV ends with CRLF');
  return rows;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const FILTERS = { conversationIds: [], formats: ['jsonl', 'csv', 'html'] } as const;

test('the bundle: JSONL, CSV, one HTML per conversation, then a manifest whose hashes, sizes and counts match the files', async () => {
  const probe = listSource();
  const files = await collect(
    writeBundle({ tenantId: 'acme', exportedAt: at(100), filters: { ...FILTERS, customer: '+4915112345678' }, source: probe.source }),
  );
  assert.deepEqual(
    [...files.keys()],
    ['messages.jsonl', 'messages.csv', 'transcripts/cv_alice.html', 'transcripts/cv_bob.html', 'manifest.json'],
  );
  const manifest = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '') as BundleManifest;
  assert.equal(manifest.format_version, 1);
  assert.equal(manifest.tenant_id, 'acme');
  assert.equal(manifest.exported_at, at(100).toISOString());
  assert.equal(manifest.filters.customer, '+4915112345678');
  assert.deepEqual(manifest.filters.formats, ['jsonl', 'csv', 'html']);
  assert.equal(manifest.conversations, 2);
  assert.equal(manifest.messages, 6);
  assert.deepEqual(
    manifest.files.map((entry) => [entry.path, entry.records]),
    [
      ['messages.jsonl', 6],
      ['messages.csv', 6],
      ['transcripts/cv_alice.html', 4],
      ['transcripts/cv_bob.html', 2],
    ],
  );
  for (const entry of manifest.files) {
    const data = files.get(entry.path) as Buffer;
    assert.equal(entry.sha256, sha256(data), entry.path);
    assert.equal(entry.bytes, data.length, entry.path);
  }
  // Each file is its own pass over the source: nothing is kept between files.
  assert.equal(probe.conversationPasses, 3);
  assert.equal(probe.transcriptPasses, 2 + 2 + 2);
});

test('messages.jsonl keeps every field of every message: statuses with pricing and errors, sentiment, content, media', async () => {
  const files = await collect(writeBundle({ tenantId: 'acme', exportedAt: at(100), filters: FILTERS, source: listSource().source }));
  const lines = (files.get('messages.jsonl')?.toString('utf8') ?? '').split('\n');
  assert.equal(lines.pop(), '', 'every line ends with a newline');
  const records = lines.map((line) => JSON.parse(line) as MessageRecord);
  assert.equal(records.length, 6);
  const template = records[1] as MessageRecord;
  assert.deepEqual(template, {
    tenant_id: 'acme',
    conversation_id: 'cv_alice',
    phone_number_id: '200',
    customer: '+4915112345678',
    record_id: 'accepted:msg_cv_alice_1',
    message_id: 'msg_cv_alice_1',
    wa_message_id: 'wamid.out.1',
    direction: 'outbound',
    type: 'template',
    occurred_at: at(1).toISOString(),
    session_index: 1,
    text: 'Your order shipped',
    content_json: '{"template":{"name":"order_shipped"}}',
    media_ids: ['med_header_1'],
    template_name: 'order_shipped',
    template_category: 'UTILITY',
    context_wa_message_id: 'wamid.cv_alice.0',
    status: 'DELIVERED',
    statuses: [
      { status: 'SENT', occurred_at: at(2).toISOString(), error_code: null, error_title: null, pricing: null },
      {
        status: 'DELIVERED',
        occurred_at: at(3).toISOString(),
        error_code: null,
        error_title: null,
        pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' },
      },
      { status: 'FAILED', occurred_at: at(4).toISOString(), error_code: 131026, error_title: 'Message undeliverable', pricing: null },
    ],
    sentiment: null,
  });
  assert.deepEqual(records[0]?.sentiment, { language: 'de', score: -0.5, label: 'negative' });
  assert.equal(records[2]?.text, HOSTILE_TEXT);
  assert.equal(records[3]?.text, null);
  assert.equal(records[3]?.content_json, '{"latitude":52.5,"name":"<b>HQ</b>"}');
  // Every line has the same keys, so tools that infer a schema from the first line read every line.
  for (const record of records) assert.deepEqual(Object.keys(record), Object.keys(template));
});

test('messages.csv: a header, one RFC 4180 row per message, formula-like cells neutralised with an apostrophe', async () => {
  const files = await collect(
    writeBundle({ tenantId: 'acme', exportedAt: at(100), filters: { ...FILTERS, formats: ['csv'] }, source: listSource().source }),
  );
  assert.deepEqual([...files.keys()], ['messages.csv', 'manifest.json']);
  const rows = parseCsv(files.get('messages.csv')?.toString('utf8') ?? '');
  const [header, ...data] = rows as [string[], ...string[][]];
  assert.equal(data.length, 6);
  const cell = (row: string[], column: string) => row[header.indexOf(column)];
  for (const row of data) assert.equal(row.length, header.length);
  assert.equal(cell(data[2] as string[], 'text'), `'${HOSTILE_TEXT}`, 'a cell with quotes, a comma and CRLF round-trips, neutralised');
  assert.equal(cell(data[4] as string[], 'text'), "'@SUM(A1:A9)");
  assert.equal(cell(data[5] as string[], 'text'), "'-1+1");
  assert.equal(cell(data[0] as string[], 'customer'), "'+4915112345678");
  assert.equal(cell(data[0] as string[], 'sentiment_score'), '-0.5', 'numbers the export formats are not prefixed');
  assert.equal(cell(data[0] as string[], 'sentiment_label'), 'negative');
  const template = data[1] as string[];
  assert.equal(cell(template, 'statuses'), `SENT ${at(2).toISOString()}; DELIVERED ${at(3).toISOString()}; FAILED ${at(4).toISOString()}`);
  assert.equal(cell(template, 'billable'), 'true');
  assert.equal(cell(template, 'pricing_category'), 'utility');
  assert.equal(cell(template, 'error_code'), '131026');
  assert.equal(cell(template, 'media_ids'), 'med_header_1');
  assert.equal(cell(template, 'content_json'), '{"template":{"name":"order_shipped"}}');
});

test('csvCell: RFC 4180 quoting and formula neutralisation, table-driven', () => {
  const cases: [string | number | boolean | null, string][] = [
    ['plain', 'plain'],
    ['', ''],
    [null, ''],
    [-3, '-3'],
    [true, 'true'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['=A1,"x"', `"'=A1,""x"""`],
    ['a=1', 'a=1'],
  ];
  for (const [value, expected] of cases) assert.equal(csvCell(value), expected, JSON.stringify(value));
});

test('each HTML transcript is self-contained and printable, escapes every value, shows both directions, statuses with times and media ids', async () => {
  const files = await collect(
    writeBundle({ tenantId: 'acme', exportedAt: at(100), filters: { ...FILTERS, formats: ['html'] }, source: listSource().source }),
  );
  const html = files.get('transcripts/cv_alice.html')?.toString('utf8') ?? '';
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /@media print/);
  assert.doesNotMatch(html, /<script|<link|src=|@import/i, 'no script and nothing loaded from elsewhere');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('&lt;b&gt;HQ&lt;/b&gt;'), 'content without text is shown, escaped');
  assert.ok(html.includes('=HYPERLINK(&quot;http://evil&quot;'));
  assert.ok(html.includes('class="message inbound"') && html.includes('class="message outbound"'));
  assert.ok(html.includes('Customer → business') && html.includes('Business → customer'));
  assert.ok(html.includes('media-store id med_photo_1') && html.includes('media-store id med_header_1'));
  assert.ok(html.includes(`DELIVERED <time datetime="${at(3).toISOString()}">`));
  assert.ok(html.includes('error 131026 Message undeliverable'));
  assert.ok(html.includes('pricing: billable, PMP, regular, utility'));
  assert.ok(html.includes('+4915112345678'));
  assert.match(html, /4 messages\./);
  assert.match(html, /<\/html>\n$/);
});

test('chunks never exceed the chunk size, also for a message larger than a chunk, and reassemble byte for byte', async () => {
  const big = inbound(ALICE, 0, { text: 'x'.repeat(5000) + 'ü'.repeat(700), contentJson: JSON.stringify({ body: 'y'.repeat(3000) }) });
  const source: ExportSource = {
    async *conversations() {
      yield ALICE;
    },
    async *transcript() {
      yield big;
      yield inbound(ALICE, 1);
    },
  };
  const small = await collect(writeBundle({ tenantId: 'acme', exportedAt: at(1), filters: FILTERS, source, chunkBytes: 100 }), 100);
  const whole = await collect(writeBundle({ tenantId: 'acme', exportedAt: at(1), filters: FILTERS, source }));
  assert.deepEqual([...small.keys()], [...whole.keys()]);
  for (const [path, data] of whole) assert.ok(data.equals(small.get(path) as Buffer), path);
  const manifest = JSON.parse(small.get('manifest.json')?.toString('utf8') ?? '') as BundleManifest;
  assert.equal(manifest.files[0]?.sha256, sha256(whole.get('messages.jsonl') as Buffer));
});

test('an empty selection still gives a well-formed bundle: an empty JSONL, a CSV with its header, a manifest', async () => {
  const files = await collect(writeBundle({ tenantId: 'acme', exportedAt: at(1), filters: FILTERS, source: listSource([]).source }));
  assert.deepEqual([...files.keys()], ['messages.jsonl', 'messages.csv', 'manifest.json']);
  assert.equal(files.get('messages.jsonl')?.length, 0);
  assert.equal(parseCsv(files.get('messages.csv')?.toString('utf8') ?? '').length, 1);
  const manifest = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '') as BundleManifest;
  assert.equal(manifest.messages, 0);
  assert.equal(manifest.files[0]?.sha256, sha256(Buffer.alloc(0)));
});

test('the source is read only as fast as chunks are pulled, and a consumer that stops closes the source (no further reads)', async () => {
  let produced = 0;
  let closed = false;
  const source: ExportSource = {
    async *conversations() {
      yield ALICE;
    },
    async *transcript(conversation) {
      try {
        // A million messages: never materialised, produced as pulled.
        for (let n = 0; n < 1_000_000; n++) {
          produced++;
          yield inbound(conversation, n);
        }
      } finally {
        closed = true;
      }
    },
  };
  const bundle = writeBundle({ tenantId: 'acme', exportedAt: at(1), filters: FILTERS, source, chunkBytes: 4096 });
  for (let i = 0; i < 3; i++) assert.equal((await bundle.next()).done, false);
  // Three 4 KiB chunks hold about 25 lines of ~500 bytes: the source ran ahead by at most one chunk's worth.
  assert.ok(produced > 10 && produced < 60, `the source produced ${produced} messages for three chunks`);
  assert.equal(closed, false);
  await bundle.return(undefined);
  assert.equal(closed, true, "stopping the bundle returned the source's iterator");
  assert.ok(produced < 60);
});

test('a source failure ends the bundle with that error and no manifest', async () => {
  const source: ExportSource = {
    async *conversations() {
      yield ALICE;
    },
    async *transcript(conversation) {
      yield inbound(conversation, 0);
      throw new Error('store unavailable');
    },
  };
  const paths: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of writeBundle({ tenantId: 'acme', exportedAt: at(1), filters: FILTERS, source })) paths.push(chunk.path);
  }, /store unavailable/);
  assert.ok(!paths.includes('manifest.json'));
});

const REQUEST: ExportRequest = { conversationIds: [], customer: '', phoneNumberId: '', formats: [] };

test('validateExportRequest names every bad field without quoting it', () => {
  const violationsOf = (request: Partial<ExportRequest>) => {
    try {
      validateExportRequest({ ...REQUEST, ...request });
      return [];
    } catch (error) {
      assert.ok(error instanceof InvalidArgumentError);
      return error.violations.map((violation) => `${violation.field}:${violation.reason}`);
    }
  };
  assert.deepEqual(violationsOf({}), []);
  assert.deepEqual(violationsOf({ conversationIds: Array.from({ length: 1001 }, (_, i) => `cv_${i}`) }), ['conversation_ids:TOO_MANY']);
  assert.deepEqual(violationsOf({ conversationIds: ['cv_ok', '../etc/passwd x', ''] }), [
    'conversation_ids[1]:INVALID_FORMAT',
    'conversation_ids[2]:REQUIRED',
  ]);
  assert.deepEqual(violationsOf({ customer: '015112345678' }), ['customer:INVALID_FORMAT']);
  assert.deepEqual(violationsOf({ from: at(5), to: at(5) }), ['to:INVALID_RANGE']);
  assert.deepEqual(violationsOf({ from: new Date(Number.NaN) }), ['from:INVALID_FORMAT']);
  assert.deepEqual(violationsOf({ formats: ['csv', 'pdf'] }), ['formats[1]:INVALID_VALUE']);
  assert.deepEqual(validateExportRequest({ ...REQUEST, formats: ['html', 'jsonl', 'html'] }).formats, ['jsonl', 'html']);
  assert.deepEqual(validateExportRequest(REQUEST).formats, ['jsonl', 'csv', 'html']);
  try {
    validateExportRequest({ ...REQUEST, customer: '+49 secret number' });
  } catch (error) {
    assert.doesNotMatch((error as Error).message, /secret/);
  }
});

/** An in-memory reader of acme's two conversations and one of another tenant, recording what was asked. */
function memoryReader(calls: string[]): ExportReader {
  const owned = new Map([
    ['acme', [ALICE, BOB]],
    ['umbrella', [{ conversationId: 'cv_umbrella', phoneNumberId: '202', customer: '+4915112345670' }]],
  ]);
  return {
    async getConversation(tenantId, id) {
      return owned.get(tenantId)?.find((conversation) => conversation.conversationId === id);
    },
    async *conversations(tenantId, filter) {
      calls.push(`conversations ${tenantId} ${filter.customer ?? '*'} ${filter.to?.toISOString()}`);
      yield* (owned.get(tenantId) ?? []).filter((conversation) => !filter.customer || conversation.customer === filter.customer);
    },
    async *transcript(tenantId, id, range) {
      calls.push(`transcript ${tenantId} ${id} ${range.from?.toISOString() ?? '-'} ${range.to?.toISOString()}`);
      yield* (MESSAGES.get(id) ?? []).filter(
        (entry) => (!range.from || entry.occurredAt >= range.from) && (!range.to || entry.occurredAt < range.to),
      );
    },
  };
}

test('the export service: tenant-scoped, explicit ids must be the tenant’s (NOT_FOUND otherwise, before any chunk), the range bounded at the start', async () => {
  const calls: string[] = [];
  const service = createExportService({ reader: memoryReader(calls), clock: { now: () => at(100) } });
  await assert.rejects(service.exportBundle('acme', { ...REQUEST, conversationIds: ['cv_alice', 'cv_umbrella'] }), NotFoundError);
  await assert.rejects(service.exportBundle('acme', { ...REQUEST, to: at(1), from: at(2) }), InvalidArgumentError);

  const named = await collect(await service.exportBundle('acme', { ...REQUEST, conversationIds: ['cv_bob'], formats: ['jsonl'] }));
  assert.equal(named.get('messages.jsonl')?.toString().trim().split('\n').length, 2, "only the named conversation's messages");
  assert.deepEqual(
    calls,
    [`transcript acme cv_bob - ${at(100).toISOString()}`],
    'no listing for explicit ids; bounded at the export start',
  );

  calls.length = 0;
  const ranged = await collect(
    await service.exportBundle('acme', { ...REQUEST, customer: '+4915112345678', from: at(1), to: at(6), formats: ['jsonl', 'html'] }),
  );
  assert.deepEqual([...ranged.keys()], ['messages.jsonl', 'transcripts/cv_alice.html', 'manifest.json']);
  const manifest = JSON.parse(ranged.get('manifest.json')?.toString() ?? '') as BundleManifest;
  assert.equal(manifest.messages, 2, 'messages at 1 and 5; the one at 6 is outside');
  assert.equal(manifest.until, at(6).toISOString());
  assert.deepEqual(manifest.filters, {
    conversation_ids: [],
    customer: '+4915112345678',
    phone_number_id: null,
    from: at(1).toISOString(),
    to: at(6).toISOString(),
    formats: ['jsonl', 'html'],
  });
  assert.ok(calls.every((call) => call.includes('acme') && !call.includes('umbrella')));
});

test('a conversation that becomes active while the listing pages past it is still exported, in every file', async () => {
  const calls: string[] = [];
  const base = memoryReader(calls);
  // The store lists most recently active first: BOB got a message during the listing, jumped ahead of the cursor
  // and is missing from the first listing; the listing of conversations active since the export started has him.
  const reader: ExportReader = {
    ...base,
    async *conversations(_tenantId, filter) {
      calls.push(`list ${filter.from ? 'since-start' : 'range'}`);
      if (filter.from) yield { ...BOB, firstMessageAt: at(2) };
      else yield ALICE;
    },
  };
  const service = createExportService({ reader, clock: { now: () => at(100) } });
  const files = await collect(await service.exportBundle('acme', REQUEST));
  assert.deepEqual(
    calls.filter((call) => call.startsWith('list')),
    ['list range', 'list since-start'],
    'listed once, plus the catch-up',
  );
  assert.ok(files.has('transcripts/cv_bob.html'));
  const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? '') as BundleManifest;
  assert.equal(manifest.conversations, 2);
  assert.deepEqual(
    manifest.files.slice(0, 2).map((file) => file.records),
    [6, 6],
  );
});
