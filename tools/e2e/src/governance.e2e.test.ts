/**
 * End to end, erasure and the customer export (issue 14): the real processes (nats-server, the WhatsApp simulator,
 * the five services on SQLite) started by the same code as `npm start`; a client built from the public protos only.
 *
 * Two customers converse with the business (unique marker texts both ways, an image each way). A legal hold on
 * customer A makes EraseCustomer fail, naming the hold; once released, A is erased: GetErasureStatus reaches COMPLETE
 * with a receipt that verifies (checked here, independently of libs/tlog) against GetLogPublicKey's key. Then a byte
 * search of every file under the data directory (SQLite files with their -wal and -shm, the JetStream store, which
 * local-run keeps under the data directory too) finds none of A's markers, nor A's number, while B's transcript is
 * still served; B's export holds every service's part and its manifest matches.
 *
 * WAITS ON OTHER SLICES (do not weaken; the assertions are the issue's):
 * - COMPLETE needs every service to take part (startCustomerDataParticipant): ingress, delivery-retry, media-store
 *   (stores-a) and receipt, archive (stores-b). Until they land, GetErasureStatus stays IN_PROGRESS and the test fails
 *   at "the erasure to complete".
 * - The byte search needs at-rest encryption / secure_delete in every store (stores-a, stores-b) and sealed content in
 *   OUTBOUND/EVENTS/WEBHOOKS (streams).
 * - The export's folders need the participants' exportCustomer (stores-a, stores-b).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Metadata, status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, preconditionViolations } from '@waygate/grpc';
import { freeStackPorts, startLocalStack, untilWindowOpen, type LocalStack } from '@waygate/local-run';
import { createTempDir, waitFor } from '@waygate/testing';
import { callUnary, loadPublicClients } from './proto-clients';

const RUN = randomBytes(4).toString('hex');
const ALICE = '+4915112347001';
const BOB = '+4915112347002';
const MEDIA_HOST = 'https://media.example.test';
/** Unique texts, so that a byte search can only find them where this test put them. */
const MARKERS = {
  aliceIn: `alice-inbound-marker-${RUN}`,
  aliceOut: `alice-outbound-marker-${RUN}`,
  aliceCaption: `alice-photo-caption-marker-${RUN}`,
  aliceImageBytes: `alice-image-bytes-marker-${RUN}`,
  bobIn: `bob-inbound-marker-${RUN}`,
  bobOut: `bob-outbound-marker-${RUN}`,
} as const;
/** A real 1x1 PNG (media-store checks the bytes against the MIME type); a marker follows its IEND chunk. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

interface Timestamp {
  seconds: string;
  nanos: number;
}
interface WireErasureStatus {
  erasure_id: string;
  state: string;
  customer_hash: string;
  requested_at: Timestamp | null;
  completed_at: Timestamp | null;
  requested_by: string;
  parts: { service: string; state: string; completed_at: Timestamp | null; counts: Record<string, string> }[];
  receipt: string;
}

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let messaging: Client;
let archive: Client;
let governance: Client;
let archiveLog: Client;
const logLines: { process: string; line: string }[] = [];

before(async () => {
  dir = createTempDir('waygate-e2e-governance-');
  const ports = await freeStackPorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    // Webhook bodies are sealed under 2-second epoch keys here (production: 15 minutes), so receipt's part of the
    // erasure (which waits until the bodies queued before it are shredded) completes within seconds.
    serviceEnv: { WAYGATE_LOG_LEVEL: 'info', WAYGATE_WEBHOOK_KEY_EPOCH_MS: '2000' },
    // The demo key has every scope (governance:admin, archive:read among them), as local-run writes it.
    onLine: (process, line) => logLines.push({ process, line }),
  });
  const clients = loadPublicClients();
  messaging = clients.messaging(`127.0.0.1:${ports.grpc.ingress}`);
  archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
  governance = clients.governance(`127.0.0.1:${ports.grpc.archive}`);
  archiveLog = clients.archiveLog(`127.0.0.1:${ports.grpc.archive}`);
});

after(async () => {
  for (const client of [messaging, archive, governance, archiveLog]) client?.close();
  await stack?.stop();
  if (process.exitCode && logLines.length > 0)
    process.stderr.write(
      `${logLines
        .slice(-80)
        .map((l) => `${l.process}: ${l.line}`)
        .join('\n')}\n`,
    );
  dir?.remove();
});

async function simulator<T>(method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${stack.simulatorUrl}/_simulator/${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${method} ${route}: ${text}`);
  return JSON.parse(text) as T;
}

async function customerWrites(customer: string, message: Record<string, unknown>): Promise<string> {
  return (await simulator<{ messageId: string }>('POST', 'inbound', { message: { from: customer.slice(1), ...message } })).messageId;
}

const call = <T>(client: Client, method: string, request: unknown) => callUnary<T>(client, method, request, stack.credentials.apiKey);

async function send(key: string, to: string, fields: Record<string, unknown>): Promise<string> {
  const response = await untilWindowOpen(() =>
    call<{ message_id: string; status: string }>(messaging, 'SendMessage', { to, idempotency_key: `${key}-${RUN}`, ...fields }),
  );
  assert.equal(response.status, 'MESSAGE_STATUS_ACCEPTED', key);
  return response.message_id;
}

function waitForStatus(messageId: string, status: string): Promise<unknown> {
  return waitFor(() => call<{ status: string }>(messaging, 'GetMessage', { message_id: messageId }), {
    until: (message) => message.status === status,
    timeoutMs: 30_000,
    intervalMs: 100,
    what: `${messageId} to reach ${status}`,
  });
}

interface WireTranscriptMessage {
  direction: string;
  type: string;
  text: string;
  content_json: string;
}

async function conversationsOf(customer: string): Promise<{ conversation_id: string; customer: string }[]> {
  return (
    await call<{ conversations: { conversation_id: string; customer: string }[] }>(archive, 'ListConversations', {
      customer,
      page_size: 50,
    })
  ).conversations;
}

async function transcriptOf(customer: string): Promise<WireTranscriptMessage[]> {
  const [conversation] = await conversationsOf(customer);
  if (!conversation) return [];
  return (
    await call<{ messages: WireTranscriptMessage[] }>(archive, 'GetTranscript', {
      conversation_id: conversation.conversation_id,
      page_size: 1000,
    })
  ).messages;
}

/** Every file under `root` (SQLite files, -wal, -shm, the JetStream store, keys), recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(root, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.isFile() ? [full] : [];
  });
}

/** Where under the data dir each needle occurs (files as relative paths). */
function byteSearch(needles: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of filesUnder(dir.path)) {
    if (statSync(file).size === 0) continue;
    const bytes = readFileSync(file);
    for (const needle of needles)
      if (bytes.includes(Buffer.from(needle, 'utf8'))) found.set(needle, [...(found.get(needle) ?? []), path.relative(dir.path, file)]);
  }
  return found;
}

/**
 * Verifies a C2SP signed note with a note verifier key, independently of libs/tlog: key id = first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || key); a signature line `— <name> base64(id || Ed25519 signature of the text)`.
 * Returns the signed text.
 */
function verifyNoteIndependently(note: string, verifierKey: string): string {
  // `<name>+<hex id>+<base64>`: the base64 may itself hold `+`, so only the first two separate.
  const [name, idHex] = verifierKey.split('+', 2);
  const keyBase64 = verifierKey.slice(`${name}+${idHex}+`.length);
  assert.ok(name && idHex && keyBase64, 'a well-formed verifier key');
  const keyBytes = Buffer.from(keyBase64, 'base64');
  assert.ok(keyBytes.length === 33 && keyBytes[0] === 1, 'an Ed25519 verifier key');
  const publicKey = keyBytes.subarray(1);
  const id = createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([1]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
  assert.equal(id.toString('hex'), idHex, 'the key id matches the key');
  const separator = note.lastIndexOf('\n\n');
  assert.ok(separator > 0, 'the note has a signature block');
  const text = note.slice(0, separator + 1);
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]),
    format: 'der',
    type: 'spki',
  });
  const prefix = `\u2014 ${name} `;
  const valid = note
    .slice(separator + 2)
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => Buffer.from(line.slice(prefix.length), 'base64'))
    .filter(
      (signature) => signature.subarray(0, 4).equals(id) && verifySignature(null, Buffer.from(text, 'utf8'), key, signature.subarray(4)),
    );
  assert.equal(valid.length, 1, 'one valid signature by the region key');
  return text;
}

/** Runs ExportCustomerData and reassembles its files (each file's chunks come one after another, the manifest last). */
function exportCustomerData(customer: string): Promise<Map<string, Buffer>> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${stack.credentials.apiKey}`);
  const stream = (governance as unknown as { ExportCustomerData: (r: unknown, m: Metadata) => NodeJS.ReadableStream }).ExportCustomerData(
    { customer },
    metadata,
  );
  const chunks = new Map<string, Buffer[]>();
  const closed = new Set<string>();
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: { path: string; data: Buffer; last: boolean }) => {
      if (closed.has(chunk.path)) reject(new Error(`${chunk.path} continues after its last chunk`));
      if (chunk.data.length > 64 * 1024) reject(new Error(`a chunk of ${chunk.path} exceeds 64 KiB`));
      chunks.set(chunk.path, [...(chunks.get(chunk.path) ?? []), Buffer.from(chunk.data)]);
      if (chunk.last) closed.add(chunk.path);
    });
    stream.on('error', reject);
    stream.on('end', () => {
      assert.deepEqual(
        [...chunks.keys()].filter((file) => !closed.has(file)),
        [],
        'every file ended with its last chunk',
      );
      assert.equal([...chunks.keys()].at(-1), 'manifest.json', 'the manifest comes last');
      resolve(new Map([...chunks].map(([file, parts]) => [file, Buffer.concat(parts)])));
    });
  });
}

test('a held customer is not erased; once released, erased everywhere with a verifiable receipt; the other customer stays and exports', async () => {
  // ================= Two customers converse: text both ways and an image each way =================
  const png = PNG;
  await simulator('PUT', 'hosted-media', { link: `${MEDIA_HOST}/label-${RUN}.png`, mimeType: 'image/png', base64: png.toString('base64') });
  await customerWrites(ALICE, { type: 'text', text: MARKERS.aliceIn });
  await customerWrites(BOB, { type: 'text', text: MARKERS.bobIn });
  const sent = [
    await send('alice-text', ALICE, { text: { body: MARKERS.aliceOut } }),
    await send('alice-image', ALICE, { image: { link: `${MEDIA_HOST}/label-${RUN}.png`, caption: 'your label' } }),
    await send('bob-text', BOB, { text: { body: MARKERS.bobOut } }),
    await send('bob-image', BOB, { image: { link: `${MEDIA_HOST}/label-${RUN}.png`, caption: 'your label' } }),
  ];
  for (const id of sent) await waitForStatus(id, 'MESSAGE_STATUS_READ');
  const alicePhoto = Buffer.concat([PNG, Buffer.from(MARKERS.aliceImageBytes, 'utf8')]);
  await customerWrites(ALICE, {
    type: 'image',
    media: { base64: alicePhoto.toString('base64'), mimeType: 'image/png' },
    caption: MARKERS.aliceCaption,
  });
  // Bob sends a photo too, so media-store holds something of his for his export.
  await customerWrites(BOB, { type: 'image', media: { base64: PNG.toString('base64'), mimeType: 'image/png' } });
  const aliceBefore = await waitFor(() => transcriptOf(ALICE), {
    until: (messages) => messages.length >= 4,
    timeoutMs: 30_000,
    intervalMs: 100,
    what: "Alice's conversation archived",
  });
  assert.ok(aliceBefore.some((message) => message.text === MARKERS.aliceIn));
  await waitFor(() => transcriptOf(BOB), {
    until: (messages) => messages.length >= 4,
    timeoutMs: 30_000,
    intervalMs: 100,
    what: "Bob's conversation archived",
  });

  // ================= A legal hold refuses the erasure, naming the hold and its matter =================
  const matter = `Smith v. Acme ${RUN}`;
  const { hold } = await call<{ hold: { hold_id: string } }>(governance, 'PlaceLegalHold', { matter, customer: ALICE });
  await assert.rejects(call(governance, 'EraseCustomer', { customer: ALICE, reason: 'customer asked' }), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.FAILED_PRECONDITION);
    assert.deepEqual(preconditionViolations(error), [
      { type: 'LEGAL_HOLD', subject: `legalHolds/${hold.hold_id}`, description: `matter: ${matter}` },
    ]);
    return true;
  });
  await assert.rejects(call(governance, 'EraseCustomer', { customer: '4915112347001' }), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error).map((violation) => violation.field),
      ['customer'],
    );
    return true;
  });
  await call(governance, 'ReleaseLegalHold', { hold_id: hold.hold_id });

  // ================= The erasure: idempotent, followed to COMPLETE =================
  const erased = await call<{ erasure_id: string; state: string }>(governance, 'EraseCustomer', {
    customer: ALICE,
    reason: 'customer asked',
  });
  assert.match(erased.erasure_id, /^er_[0-9a-f]{26}$/);
  const again = await call<{ erasure_id: string }>(governance, 'EraseCustomer', { customer: ALICE, reason: 'asked twice' });
  assert.equal(again.erasure_id, erased.erasure_id, 'asking again returns the same erasure');

  // WAITS ON stores-a and stores-b: every service's participant must report its part.
  const status = await waitFor(() => call<WireErasureStatus>(governance, 'GetErasureStatus', { erasure_id: erased.erasure_id }), {
    until: (current) => current.state === 'ERASURE_STATE_COMPLETE',
    timeoutMs: 60_000,
    intervalMs: 250,
    what: 'the erasure to complete',
  });
  assert.deepEqual(
    status.parts.map((part) => [part.service, part.state]),
    ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive', 'keyring'].map((service) => [service, 'ERASURE_STATE_COMPLETE']),
  );
  assert.match(status.customer_hash, /^[0-9a-f]{64}$/);
  assert.equal(status.requested_by, 'demo-admin', "the demo key's id (local-run names it), never the key");
  assert.equal(JSON.stringify(status).includes(ALICE.slice(1)), false, 'the status never shows the number');

  // ================= The receipt verifies against the region's key, independently =================
  const { verifier_key: verifierKey } = await call<{ verifier_key: string }>(archiveLog, 'GetLogPublicKey', {});
  const receiptText = verifyNoteIndependently(status.receipt, verifierKey);
  assert.match(receiptText, new RegExp(`^erasure ${erased.erasure_id}$`, 'm'));
  assert.match(receiptText, new RegExp(`^customer-hash ${status.customer_hash}$`, 'm'));
  for (const part of status.parts)
    assert.match(receiptText, new RegExp(`^part ${part.service} \\S+Z `, 'm'), `the receipt lists ${part.service}`);
  const tampered = status.receipt.replace(
    status.customer_hash,
    status.customer_hash.replace(/^./, (c) => (c === '0' ? '1' : '0')),
  );
  assert.throws(() => verifyNoteIndependently(tampered, verifierKey), 'an altered receipt does not verify');

  // ================= Nothing of Alice's content is left in any file under the data dir =================
  // WAITS ON stores-a, stores-b and streams: encryption at rest / secure_delete + WAL checkpoints, sealed stream content.
  const found = byteSearch([...Object.values(MARKERS), ALICE.slice(1)]);
  for (const marker of [MARKERS.aliceIn, MARKERS.aliceOut, MARKERS.aliceCaption, MARKERS.aliceImageBytes])
    assert.deepEqual(found.get(marker) ?? [], [], `no file holds ${marker}`);
  // Alice's metadata stays only pseudonymised: her number is in no file (as E.164 or as WhatsApp's wa_id digits).
  assert.deepEqual(found.get(ALICE.slice(1)) ?? [], [], "no file holds Alice's number");
  assert.deepEqual(
    (await conversationsOf(ALICE)).filter((conversation) => conversation.customer === ALICE),
    [],
    "the archive lists no conversation under Alice's number",
  );

  // ================= Bob is untouched: his transcript is still served, and his export is whole =================
  const bob = await transcriptOf(BOB);
  assert.ok(bob.some((message) => message.text === MARKERS.bobIn) && bob.some((message) => message.text === MARKERS.bobOut));

  const bundle = await exportCustomerData(BOB);
  const manifest = JSON.parse((bundle.get('manifest.json') as Buffer).toString('utf8')) as {
    kind: string;
    customer: string;
    services: string[];
    files: { path: string; sha256: string; bytes: number; records: number }[];
  };
  assert.equal(manifest.kind, 'customer-export');
  assert.equal(manifest.customer, BOB);
  assert.deepEqual(manifest.services, ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive'], 'every service answered');
  assert.deepEqual(
    manifest.files.map((file) => file.path),
    [...bundle.keys()].filter((file) => file !== 'manifest.json'),
    'the manifest lists every file, in bundle order',
  );
  for (const file of manifest.files) {
    const bytes = bundle.get(file.path) as Buffer;
    assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'), `${file.path}: SHA-256`);
    assert.equal(file.bytes, bytes.length, `${file.path}: size`);
    assert.equal(file.records, bytes.toString('utf8').split('\n').filter(Boolean).length, `${file.path}: count`);
  }
  // WAITS ON stores-a and stores-b: the participants' exportCustomer. Services that keep Bob's messages, inbound texts
  // and media have a part (delivery-retry may hold nothing once delivered).
  for (const service of ['ingress', 'receipt', 'media-store', 'archive'])
    assert.ok(
      manifest.files.some((file) => file.path.startsWith(`${service}/`) && file.records > 0),
      `the export holds ${service}'s part`,
    );
  const everything = [...bundle.values()].map((bytes) => bytes.toString('utf8')).join('\n');
  assert.ok(everything.includes(MARKERS.bobIn) && everything.includes(MARKERS.bobOut), "Bob's texts are in his export");
  assert.equal(everything.includes(RUN) && everything.includes('alice-'), false, "nothing of Alice's in Bob's export");
});
