import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { credentials } from '@grpc/grpc-js';
import {
  GovernanceServiceClient,
  ListLegalHoldsRequest,
  type ListConversationsResponse,
  type ListMessageEventsResponse,
  type PlaceLegalHoldResponse,
} from '@waygate/proto';
import { bearerMetadata, callUnary, type UnaryMethodOf } from '@waygate/testing';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

// The retention sweeper with the injectable clock, on the archive as main.ts starts it: records past the tenant's
// archiveRetentionDays go (events, message rows, summaries, search rows), younger ones stay, and a legal hold (of a
// customer or of the whole tenant) suspends it until released.
const DAY_MS = 24 * 3_600_000;
const NOW = Date.UTC(2026, 5, 1);
let nowMs = NOW;
const clock = { now: () => new Date(nowMs) };
const KEY = 'key-acme-sweeper';
const TENANTS = [
  { id: 'acme', homeRegion: 'eu', apiKey: KEY, phoneNumberIds: ['200'], governance: { mode: 'operational', archiveRetentionDays: 30 } },
  { id: 'umbrella', homeRegion: 'eu', apiKey: 'key-umbrella-sweeper', phoneNumberIds: ['202'] },
] as const;
const ALICE = '+4915112345678';
const BOB = '+4915187654321';
const CAROL = '+4915100000003';

let harness: ArchiveHarness;
let governance: GovernanceServiceClient;

before(async () => {
  harness = await startArchiveHarness({
    tenants: TENANTS,
    clock,
    analyzeText: async () => ({ language: 'en', score: 0, label: 'neutral' }),
    env: { WAYGATE_ARCHIVE_RETENTION_SWEEP_INTERVAL_MS: '3600000' },
  });
  governance = new GovernanceServiceClient(`127.0.0.1:${harness.archive.grpcPort}`, credentials.createInsecure());
});

after(async () => {
  governance?.close();
  await harness?.stop();
});

function holdsCall<Response>(method: UnaryMethodOf<GovernanceServiceClient>, request: object): Promise<Response> {
  const full =
    method === 'listLegalHolds' ? ListLegalHoldsRequest.fromPartial(request) : { matter: '', customer: '', holdId: '', ...request };
  return callUnary(governance, method, full, bearerMetadata(KEY));
}

async function eventsOf(messageId: string, apiKey = KEY): Promise<number> {
  return (await harness.unary<ListMessageEventsResponse>('listMessageEvents', { messageId }, apiKey)).events.length;
}

async function conversationOf(customer: string): Promise<ListConversationsResponse['conversations'][number] | undefined> {
  const response = await harness.unary<ListConversationsResponse>('listConversations', {
    customer,
    phoneNumberId: '',
    hasUnanswered: false,
    sentiment: 0,
    pageSize: 0,
    pageToken: '',
  });
  return response.conversations[0];
}

/** Rows `table` holds for a record in the archive's SQLite file (the search index, the archive log's salts). */
function rowsOf(table: 'search_messages' | 'archive_log_salts', recordId: string): number {
  const db = new Database(path.join(harness.config.storage.kind === 'sqlite' ? harness.config.storage.file : ''), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE record_id = ?`).get(recordId) as { n: number }).n;
  } finally {
    db.close();
  }
}

const searchRows = (recordId: string) => rowsOf('search_messages', recordId);

async function inbound(tenantId: string, wamid: string, from: string, ageDays: number, text: string): Promise<void> {
  await harness.publishInbound({ tenantId, waMessageId: wamid, from, occurredAt: new Date(NOW - ageDays * DAY_MS), text });
}

test('records past retention go, younger ones and held customers stay; releasing the hold lets the next sweep run', async () => {
  await inbound('acme', 'wamid.alice-old', ALICE, 40, 'alice old marker q1w2');
  await inbound('acme', 'wamid.alice-young', ALICE, 5, 'alice young marker e3r4');
  await harness.publishAccepted({
    tenantId: 'acme',
    messageId: 'msg_bob_old',
    to: BOB,
    acceptedAt: new Date(NOW - 45 * DAY_MS),
    text: 'bob old t5y6',
  });
  await harness.publishStatus({
    eventId: 'evt_bob_sent',
    tenantId: 'acme',
    messageId: 'msg_bob_old',
    status: 2,
    occurredAt: new Date(NOW - 45 * DAY_MS + 1000),
  });
  await inbound('umbrella', 'wamid.umbrella-old', ALICE, 400, 'umbrella keeps everything');
  await harness.waitUntilCaughtUp();
  assert.equal((await conversationOf(ALICE))?.inboundCount, 2);
  assert.equal(searchRows('wa:in:wamid.alice-old'), 1);
  assert.equal(rowsOf('archive_log_salts', 'wa:in:wamid.alice-old'), 1);
  assert.equal(rowsOf('archive_log_salts', 'evt_bob_sent'), 1);

  const bobHold = (await holdsCall<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'Bob v. Acme', customer: BOB })).hold!;
  const report = await harness.archive.sweepRetention();
  assert.deepEqual(report, { disposed: 1, heldTenants: 0, heldCustomers: 1, truncated: false });
  assert.equal(await eventsOf('wamid.alice-old'), 0, "ALICE's old message is gone");
  assert.equal(searchRows('wa:in:wamid.alice-old'), 0, 'and its search row');
  assert.equal(rowsOf('archive_log_salts', 'wa:in:wamid.alice-old'), 0, 'and its archive-log salt (the log entry stays)');
  assert.equal(rowsOf('archive_log_salts', 'wa:in:wamid.alice-young'), 1);
  assert.equal(await eventsOf('wamid.alice-young'), 1, 'the younger one stays');
  assert.equal(searchRows('wa:in:wamid.alice-young'), 1);
  const alice = await conversationOf(ALICE);
  assert.equal(alice?.inboundCount, 1, 'the summary is rebuilt from what remains');
  assert.equal(alice?.firstMessageAt?.getTime(), NOW - 5 * DAY_MS);
  assert.equal(alice?.sessionCount, 1);
  assert.equal(await eventsOf('msg_bob_old'), 2, "BOB's held message and its status stay");
  assert.equal(await eventsOf('wamid.umbrella-old', 'key-umbrella-sweeper'), 1, 'a tenant without retention keeps everything');

  await holdsCall('releaseLegalHold', { holdId: bobHold.holdId });
  assert.equal((await harness.archive.sweepRetention()).disposed, 1);
  assert.equal(await eventsOf('msg_bob_old'), 0, 'released: the message and its status events go');
  assert.equal(await conversationOf(BOB), undefined, 'an emptied conversation is removed');
  assert.equal(searchRows('accepted:msg_bob_old'), 0);
  assert.equal(rowsOf('archive_log_salts', 'accepted:msg_bob_old'), 0);
  assert.equal(rowsOf('archive_log_salts', 'evt_bob_sent'), 0, "the status event's salt too");
});

test('a tenant-wide hold suspends the whole tenant; time passing (the clock) makes more records expire', async () => {
  await inbound('acme', 'wamid.carol-old', CAROL, 31, 'carol old u7i8');
  await harness.waitUntilCaughtUp();
  const wide = (await holdsCall<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'Regulator inquiry', customer: '' })).hold!;
  nowMs = NOW + 30 * DAY_MS; // ALICE's young message is now 35 days old
  assert.deepEqual(await harness.archive.sweepRetention(), { disposed: 0, heldTenants: 1, heldCustomers: 0, truncated: false });
  assert.equal(await eventsOf('wamid.carol-old'), 1);
  assert.equal(await eventsOf('wamid.alice-young'), 1);
  await holdsCall('releaseLegalHold', { holdId: wide.holdId });
  assert.equal((await harness.archive.sweepRetention()).disposed, 2);
  assert.equal(await eventsOf('wamid.carol-old'), 0);
  assert.equal(await eventsOf('wamid.alice-young'), 0);
  assert.equal((await harness.archive.sweepRetention()).disposed, 0, 'nothing more to do');
  const line = harness.logLines.find((candidate) => candidate.includes('"msg":"retention sweep"'));
  assert.ok(line && !line.includes(ALICE.slice(1)) && !line.includes('marker'), 'the pass logs counts only');
});
