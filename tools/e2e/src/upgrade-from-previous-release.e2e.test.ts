/**
 * Upgrade from the previous release's data: tools/e2e/fixtures/release-1 holds every SQLite file a region of release 1
 * wrote (as SQL text, made by make-previous-release-fixture.ts on that release), with its media key and credentials.
 * The current code starts on it (each store runs its newer migrations at start) and must read everything back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { createTempDir, waitFor } from '@waygate/testing';
import { startLocalStack, untilWindowOpen, type LocalStack, freeStackPorts } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';
import { loadSqlDump } from './sqlite-sql-dump';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'release-1');
const expected = JSON.parse(readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
  sentMessageId: string;
  sentStatus: string;
  inboundWamid: string;
  customer: string;
};

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let clients: ReturnType<typeof loadPublicClients>;
const versionsBefore = new Map<string, number>();
const lines: string[] = [];

function schemaVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number(db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get());
  } finally {
    db.close();
  }
}

before(async () => {
  dir = createTempDir('waygate-upgrade-');
  const eu = path.join(dir.path, 'eu');
  mkdirSync(eu, { recursive: true });
  copyFileSync(path.join(FIXTURE, 'dev-credentials.json'), path.join(dir.path, 'dev-credentials.json'));
  copyFileSync(path.join(FIXTURE, 'eu', 'media-store.key'), path.join(eu, 'media-store.key'));
  for (const dump of readdirSync(path.join(FIXTURE, 'eu')).filter((file) => file.endsWith('.sqlite.sql'))) {
    const file = path.join(eu, dump.replace(/\.sql$/, ''));
    loadSqlDump(readFileSync(path.join(FIXTURE, 'eu', dump), 'utf8'), file);
    versionsBefore.set(path.basename(file), schemaVersion(file));
  }
  stack = await startLocalStack({ dataDir: dir.path, ports: await freeStackPorts(), onLine: (_name, line) => lines.push(line) });
  clients = loadPublicClients();
});

after(async () => {
  await stack?.stop();
  if (process.exitCode) process.stderr.write(`${lines.slice(-60).join('\n')}\n`);
  dir?.remove();
});

describe("the current release on the previous release's data", () => {
  test('every store started on its file and brought its schema up to date (never back)', () => {
    assert.equal(versionsBefore.size, 7, 'seven SQLite files in the fixture');
    for (const [file, before] of versionsBefore) {
      assert.ok(before >= 1, `${file}: the fixture has a schema version`);
      assert.ok(schemaVersion(path.join(dir.path, 'eu', file)) >= before, `${file}: schema version not lowered`);
    }
  });

  test('ingress returns the message sent on release 1 with its status and timeline', async () => {
    const messaging: Client = clients.messaging(`127.0.0.1:${stack.ports.grpc.ingress}`);
    try {
      const message = await callUnary<{ status: string; to: string; timeline: { status: string }[] }>(
        messaging,
        'GetMessage',
        { message_id: expected.sentMessageId },
        stack.credentials.apiKey,
      );
      assert.equal(message.status, expected.sentStatus);
      assert.equal(message.to, expected.customer);
      assert.ok(message.timeline.length >= 4, JSON.stringify(message.timeline));
    } finally {
      messaging.close();
    }
  });

  test('the archive lists the events of the sent message and of the inbound image', async () => {
    const archive = clients.archive(`127.0.0.1:${stack.ports.grpc.archive}`);
    try {
      const sent = await callUnary<{ events: { status: string }[] }>(
        archive,
        'ListMessageEvents',
        { message_id: expected.sentMessageId },
        stack.credentials.apiKey,
      );
      assert.ok(sent.events.some((event) => event.status === 'MESSAGE_STATUS_READ'));
      const inbound = await callUnary<{ events: { kind: string }[] }>(
        archive,
        'ListMessageEvents',
        { message_id: expected.inboundWamid },
        stack.credentials.apiKey,
      );
      assert.deepEqual(
        inbound.events.map((event) => event.kind),
        ['inbound'],
      );
    } finally {
      archive.close();
    }
  });

  test("media-store decrypts the inbound image stored by release 1 (receipt's record names it)", async () => {
    const db = new Database(path.join(dir.path, 'eu', 'receipt-inbound.sqlite'), { readonly: true });
    let mediaId: string;
    try {
      const row = db.prepare('SELECT media_json FROM inbound_messages WHERE wa_message_id = ?').get(expected.inboundWamid) as {
        media_json: string;
      };
      mediaId = (JSON.parse(row.media_json) as { mediaId: string }).mediaId;
    } finally {
      db.close();
    }
    const media = clients.media(`127.0.0.1:${stack.ports.grpc['media-store']}`);
    try {
      const got = await callUnary<{ content: Buffer; mime_type: string }>(
        media,
        'GetMedia',
        { media_id: mediaId },
        stack.credentials.apiKey,
      );
      assert.equal(got.mime_type, 'image/jpeg');
      assert.equal(Buffer.from(got.content).subarray(0, 3).toString('hex'), 'ffd8ff');
    } finally {
      media.close();
    }
  });

  test('and it keeps working: a new message goes all the way', async () => {
    const messaging: Client = clients.messaging(`127.0.0.1:${stack.ports.grpc.ingress}`);
    try {
      await fetch(`${stack.simulatorUrl}/_simulator/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: { type: 'text', from: expected.customer.slice(1), text: 'again' } }),
      });
      // ingress's view of the customer's window follows receipt within about a second.
      const sent = await untilWindowOpen(() =>
        callUnary<{ message_id: string }>(
          messaging,
          'SendMessage',
          { to: expected.customer, text: { body: 'after the upgrade' }, idempotency_key: 'upgrade-1' },
          stack.credentials.apiKey,
        ),
      );
      await waitFor(
        async () =>
          (await callUnary<{ status: string }>(messaging, 'GetMessage', { message_id: sent.message_id }, stack.credentials.apiKey))
            .status === 'MESSAGE_STATUS_READ',
        { timeoutMs: 20_000, intervalMs: 100, what: 'the new message READ' },
      );
    } finally {
      messaging.close();
    }
  });
});
