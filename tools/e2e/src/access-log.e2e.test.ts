/**
 * End to end, the archive's access log (issue 14): the real processes (nats-server, the WhatsApp simulator, the five
 * services on SQLite) started by the same code as `npm start`; clients built from the public protos only. A customer
 * writes a message with a unique text; the tenant searches for it and lists the customer's conversations; the access
 * log lists both calls (and a failed one) with the caller's key id, counts and status codes, never the text or the
 * number; and a verifier written here checks the listing against the signed checkpoint (RFC 9162, C2SP signed note,
 * Ed25519 from node:crypto).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, loadPackageDefinition, status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createTempDir, waitFor } from '@waygate/testing';
import { freeStackPorts, startLocalStack, type LocalStack } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

const CUSTOMER = '+4915112340077';
const MARKER = 'quokkaflamingo4411';
/** The region's log signing key seed, given to the services, so the test derives the public key itself. */
const SEED = Buffer.alloc(32, 9);
const PROTO_ROOT = path.resolve(__dirname, '../../../proto');

interface WireEntry {
  index: string;
  at: { seconds: string; nanos: number };
  key_id: string;
  action: string;
  filters_json: string;
  result_count: string;
  status_code: number;
  leaf_hash: string;
}

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let archive: Client;
let governance: Client;
const logLines: string[] = [];

function governanceClient(address: string): Client {
  const definition = loadPackageDefinition(
    loadSync('waygate/governance/v1/governance.proto', {
      includeDirs: [PROTO_ROOT],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    }),
  ) as unknown as { waygate: { governance: { v1: { GovernanceService: new (address: string, creds: unknown) => Client } } } };
  return new definition.waygate.governance.v1.GovernanceService(address, credentials.createInsecure());
}

before(async () => {
  dir = createTempDir('waygate-e2e-access-log-');
  const ports = await freeStackPorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    serviceEnv: { WAYGATE_LOG_LEVEL: 'info', WAYGATE_LOG_SIGNING_KEY: SEED.toString('base64') },
    onLine: (process, line) => logLines.push(`${process}: ${line}`),
  });
  archive = loadPublicClients().archive(`127.0.0.1:${ports.grpc.archive}`);
  governance = governanceClient(`127.0.0.1:${ports.grpc.archive}`);
});

after(async () => {
  archive?.close();
  governance?.close();
  await stack?.stop();
  if (process.exitCode) process.stderr.write(`${logLines.slice(-60).join('\n')}\n`);
  dir?.remove();
});

const sha256 = (...parts: Buffer[]) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest();

function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

test('searches and listings are in the access log, pseudonymised, and the log verifies against its signed checkpoint', async () => {
  const response = await fetch(`${stack.simulatorUrl}/_simulator/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: { from: CUSTOMER.slice(1), type: 'text', text: `where is parcel ${MARKER}?` } }),
  });
  assert.equal(response.status, 200);
  const apiKey = stack.credentials.apiKey;
  const hits = await waitFor(
    async () => (await callUnary<{ hits: unknown[] }>(archive, 'SearchMessages', { query: MARKER }, apiKey)).hits,
    { until: (found) => found.length === 1, what: 'the customer message to be archived and searchable' },
  );
  assert.equal(hits.length, 1);
  const conversations = await callUnary<{ conversations: unknown[] }>(archive, 'ListConversations', { customer: CUSTOMER }, apiKey);
  assert.equal(conversations.conversations.length, 1);
  await assert.rejects(
    callUnary(archive, 'ListConversations', { customer: 'nope' }, apiKey),
    (error: ServiceError) => error.code === grpcStatus.INVALID_ARGUMENT,
  );

  const listing = await callUnary<{ entries: WireEntry[]; checkpoint: string }>(governance, 'ListAccessLog', { page_size: 1000 }, apiKey);
  // The demo key's id in the generated tenants file (tools/local-run/src/dev-credentials.ts).
  const keyId = 'demo-admin';
  const last = listing.entries.slice(-3);
  assert.deepEqual(
    last.map((entry) => [entry.action, entry.key_id, entry.result_count, entry.status_code]),
    [
      ['archive.SearchMessages', keyId, '1', grpcStatus.OK],
      ['archive.ListConversations', keyId, '1', grpcStatus.OK],
      ['archive.ListConversations', keyId, '0', grpcStatus.INVALID_ARGUMENT],
    ],
  );
  assert.equal(JSON.parse(last[0]?.filters_json ?? '{}').query_length, MARKER.length);
  for (const entry of listing.entries)
    for (const secret of [MARKER, CUSTOMER.slice(1), apiKey]) assert.equal(JSON.stringify(entry).includes(secret), false);
  const regionDir = path.join(dir.path, 'eu');
  for (const name of readdirSync(regionDir).filter((file) => file.startsWith('access-log.sqlite')))
    for (const secret of [MARKER, CUSTOMER.slice(1)])
      assert.equal(readFileSync(path.join(regionDir, name)).includes(Buffer.from(secret)), false, `${name}`);

  // The verifier: every leaf from its fields, the root, the signature.
  const tenantId = 'demo';
  const leaves = listing.entries.map((entry, index) => {
    assert.equal(entry.index, String(index));
    const at = new Date(Number(entry.at.seconds) * 1000 + Math.floor(entry.at.nanos / 1e6)).toISOString();
    const bytes = JSON.stringify([
      'waygate-access-log/v1',
      tenantId,
      at,
      entry.key_id,
      entry.action,
      entry.filters_json,
      Number(entry.result_count),
      entry.status_code,
    ]);
    const leaf = sha256(Buffer.from([0]), Buffer.from(bytes));
    assert.equal(leaf.toString('hex'), entry.leaf_hash, `leaf ${index}`);
    return leaf;
  });
  const [text = '', signatures = ''] = listing.checkpoint.split('\n\n');
  const [origin, size, root] = text.split('\n');
  assert.equal(origin, `waygate/eu/access/${tenantId}`);
  assert.equal(Number(size), leaves.length);
  assert.equal(root, merkleRoot(leaves).toString('base64'));
  const publicKey = createPublicKey(
    createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), SEED]), format: 'der', type: 'pkcs8' }),
  );
  const signature = Buffer.from(/^\u2014 \S+ (\S+)$/m.exec(signatures)?.[1] ?? '', 'base64');
  assert.ok(verify(null, Buffer.from(`${text}\n`), publicKey, signature.subarray(4)), 'the checkpoint is signed by the region key');
});
