/**
 * End to end, retention and legal hold (issue 14): the real processes (nats-server, the WhatsApp simulator, the five
 * services on SQLite) started by the same code as `npm start`; clients built from the public protos only.
 *
 * The demo tenant keeps archive records for 1 day (operational mode), and the archive sweeps every 500 ms. The
 * simulator's clock starts 3 days in the past, so what customers write first is already past retention when it is
 * archived; then the clock jumps to the present, and what is written next is young. A legal hold on one customer,
 * placed over GovernanceService, keeps that customer's old message through every sweep until it is released.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, loadPackageDefinition, status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createTempDir, waitFor } from '@waygate/testing';
import { freeStackPorts, startLocalStack, type LocalStack } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

const HELD = '+4915112350001';
const EXPIRED = '+4915112350002';
const YOUNG = '+4915112350003';
const DAY_MS = 24 * 60 * 60 * 1000;
const GOVERNANCE = '    governance: { mode: operational, archiveRetentionDays: 1 }\n';

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let archive: Client;
let governance: Client;
const logLines: { process: string; line: string }[] = [];
const simulatorStart = new Date(Math.floor((Date.now() - 3 * DAY_MS) / 1000) * 1000);

/** GovernanceService from the public proto, as an outside client would build it. */
function governanceClient(address: string): Client {
  const definition = loadPackageDefinition(
    loadSync('waygate/governance/v1/governance.proto', {
      includeDirs: [path.resolve(__dirname, '../../../proto')],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  ) as unknown as { waygate: { governance: { v1: { GovernanceService: new (address: string, creds: unknown) => Client } } } };
  return new definition.waygate.governance.v1.GovernanceService(address, credentials.createInsecure());
}

before(async () => {
  dir = createTempDir('waygate-e2e-retention-');
  const ports = await freeStackPorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    serviceEnv: { WAYGATE_LOG_LEVEL: 'info', WAYGATE_ARCHIVE_RETENTION_SWEEP_INTERVAL_MS: '500' },
    simulatorArgs: ['--start-time', simulatorStart.toISOString()],
    tenantsYaml: (generated) => {
      const usTenant = generated.indexOf('\n  - id: demo-us');
      assert.ok(usTenant > 0, 'the generated tenants file lists demo-us after demo');
      return `${generated.slice(0, usTenant + 1)}${GOVERNANCE}${generated.slice(usTenant + 1)}`;
    },
    onLine: (process, line) => logLines.push({ process, line }),
  });
  archive = loadPublicClients().archive(`127.0.0.1:${ports.grpc.archive}`);
  governance = governanceClient(`127.0.0.1:${ports.grpc.archive}`);
});

after(async () => {
  archive?.close();
  governance?.close();
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

async function customerWrites(customer: string, text: string): Promise<string> {
  const written = await simulator<{ messageId: string }>('POST', 'inbound', { message: { from: customer.slice(1), type: 'text', text } });
  return written.messageId;
}

async function archivedEvents(wamid: string): Promise<number> {
  return (await callUnary<{ events: unknown[] }>(archive, 'ListMessageEvents', { message_id: wamid }, stack.credentials.apiKey)).events
    .length;
}

/** The index of the archive's log line that archived `wamid` (waits for it). */
function archivedAt(wamid: string): Promise<number> {
  return waitFor(
    () => {
      const index = logLines.findIndex(
        (l) => l.process.startsWith('archive') && l.line.includes(wamid) && l.line.includes('event archived'),
      );
      return index >= 0 ? index : undefined;
    },
    { timeoutMs: 20_000, what: `the archive to record ${wamid}` },
  ) as Promise<number>;
}

/** Waits for a retention sweep of the archive logged after log line `index`. */
function sweptAfter(index: number): Promise<string> {
  return waitFor(() => logLines.slice(index + 1).find((l) => l.process.startsWith('archive') && l.line.includes('retention sweep'))?.line, {
    timeoutMs: 10_000,
    what: 'a retention sweep after that',
  }) as Promise<string>;
}

test('old records are swept through the real processes; a legal hold keeps its customer’s until released; young ones stay', async () => {
  const key = stack.credentials.apiKey;
  const placed = await callUnary<{ hold: { hold_id: string; placed_by: string } }>(
    governance,
    'PlaceLegalHold',
    { matter: 'Held v. Demo', customer: HELD },
    key,
  );
  assert.equal(placed.hold.placed_by, 'demo-admin', "the demo key's id");

  // Three days ago (simulator clock): both are past the 1-day retention as soon as they are archived.
  const heldWamid = await customerWrites(HELD, 'held customer old text');
  const expiredWamid = await customerWrites(EXPIRED, 'expired customer old text');
  const heldIndex = await archivedAt(heldWamid);
  await archivedAt(expiredWamid);
  await waitFor(async () => (await archivedEvents(expiredWamid)) === 0, { timeoutMs: 15_000, what: 'the expired message to be swept' });
  const sweep = await sweptAfter(Math.max(heldIndex, await archivedAt(expiredWamid)));
  assert.doesNotMatch(sweep, /49151123500/, 'a sweep logs counts only');
  assert.equal(await archivedEvents(heldWamid), 1, 'the held customer’s message survives the sweeps');

  // The present: a young message stays through sweeps.
  const { nowMs } = await simulator<{ nowMs: number }>('GET', 'clock');
  await simulator('POST', 'clock/advance', { ms: Date.now() - nowMs });
  const youngWamid = await customerWrites(YOUNG, 'young customer text');
  await sweptAfter(await archivedAt(youngWamid));
  assert.equal(await archivedEvents(youngWamid), 1);

  // Released: the next sweep disposes of it.
  const released = await callUnary<{ hold: { released_by: string } }>(
    governance,
    'ReleaseLegalHold',
    { hold_id: placed.hold.hold_id },
    key,
  );
  assert.equal(released.hold.released_by, 'demo-admin');
  await waitFor(async () => (await archivedEvents(heldWamid)) === 0, { timeoutMs: 15_000, what: 'the released message to be swept' });
  assert.equal(await archivedEvents(youngWamid), 1);

  const listed = await callUnary<{ holds: { hold_id: string }[] }>(governance, 'ListLegalHolds', { include_released: true }, key);
  assert.deepEqual(
    listed.holds.map((hold) => hold.hold_id),
    [placed.hold.hold_id],
  );
  const unknown = await callUnary(governance, 'ReleaseLegalHold', { hold_id: 'lh_00000000000000000000000000' }, key).catch(
    (e: ServiceError) => e,
  );
  assert.equal((unknown as ServiceError).code, grpcStatus.NOT_FOUND);
});
