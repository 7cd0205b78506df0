/**
 * Residency, end to end: two full regions side by side (eu and us, each its own nats-server, data folder and ports;
 * one simulated Meta), started by the same code as `npm start -- --regions eu,us`, every process's output written to
 * files under its region's folder. Each region's tenant sends, receives text and media, and has it archived; each
 * region refuses the other's keys and misrouted webhooks. Then every byte of every file of each region (SQLite, WAL,
 * media, JetStream store, logs) is searched for the other region's customers, texts and tenant id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { preconditionViolations } from '@waygate/grpc';
import { createTempDir, waitFor } from '@waygate/testing';
import { startLocalStack, untilWindowOpen, type LocalStack, type Region, type RegionStack, freeStackPorts } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

/** What belongs to each region's tenant: its customer (E.164) and texts only that region may ever hold. */
const PEOPLE: Readonly<Record<Region, { customer: string; outbound: string; inbound: string; caption: string; media: string }>> = {
  eu: {
    customer: '+4915155501234',
    outbound: 'eu-outbound-parcel-8812-kiel',
    inbound: 'eu-inbound-question-7711-kiel',
    caption: 'eu-caption-receipt-4410',
    media: 'EU-IMAGE-BYTES-55012',
  },
  us: {
    customer: '+12025550147',
    outbound: 'us-outbound-parcel-5523-reno',
    inbound: 'us-inbound-question-3391-reno',
    caption: 'us-caption-receipt-9071',
    media: 'US-IMAGE-BYTES-88213',
  },
};
const OTHER: Readonly<Record<Region, Region>> = { eu: 'us', us: 'eu' };
/** Posted to eu's webhook for the us number (a misrouted `messages` webhook): must leave no trace in eu. */
const MISROUTED = { customer: '+13105550199', text: 'misrouted-us-text-6620' };

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let clients: ReturnType<typeof loadPublicClients>;
const messaging = new Map<Region, Client>();
const lines: { process: string; line: string }[] = [];

const region = (name: Region): RegionStack => stack.regions.get(name) as RegionStack;

/** A JPEG header, then a marker: an image the simulator and receipt accept, with bytes only one region may hold. */
function imageBytes(marker: string): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]),
    Buffer.from(marker),
    Buffer.from([0xff, 0xd9]),
  ]);
}

async function customerWrites(stackRegion: Region, message: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${stack.simulatorUrl}/_simulator/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumberId: region(stackRegion).tenant.phoneNumberId, message }),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Every regular file under `root`. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((relative) => path.join(root, relative))
    .filter((file) => statSync(file).isFile());
}

/** A region's files: its folder (SQLite with WAL, media, logs; us's JetStream store) and, for eu, `<data>/nats`. */
function regionFiles(name: Region): string[] {
  const own = region(name);
  const files = filesUnder(own.dataDir);
  return own.natsStoreDir.startsWith(own.dataDir + path.sep) ? files : [...files, ...filesUnder(own.natsStoreDir)];
}

/**
 * Byte search of every file of each region for the other region's customers (E.164 with and without '+'), unique
 * texts, media bytes and tenant id. It can fail: each region's own customer is found in its files.
 */
function assertNoTraceOfTheOtherRegion(options: { running: boolean }): void {
  for (const name of ['eu', 'us'] as const) {
    const otherPeople = PEOPLE[OTHER[name]];
    const needles = [
      otherPeople.customer,
      otherPeople.customer.slice(1),
      otherPeople.outbound,
      otherPeople.inbound,
      otherPeople.caption,
      otherPeople.media,
      ...(name === 'eu' ? [MISROUTED.customer.slice(1), MISROUTED.text] : []),
    ];
    // Tenant ids: `demo` is a prefix of `demo-us`, so eu's id is matched where no `-us` follows it.
    const otherTenant = name === 'eu' ? /demo-us/ : /demo(?!-us)/;
    const files = regionFiles(name);
    assert.ok(
      files.some((file) => file.endsWith('.sqlite')),
      `${name}: SQLite files searched`,
    );
    if (options.running)
      assert.ok(
        files.some((file) => file.endsWith('.sqlite-wal')),
        `${name}: WAL files searched`,
      );
    assert.ok(
      files.some((file) => file.includes(`${path.sep}jetstream${path.sep}`)),
      `${name}: the JetStream store searched`,
    );
    assert.ok(
      files.some((file) => file.endsWith('.log')),
      `${name}: log files searched`,
    );
    const found: string[] = [];
    for (const file of files) {
      if (!existsSync(file)) continue; // a WAL checkpointed away meanwhile
      const bytes = readFileSync(file);
      for (const needle of needles) if (bytes.includes(needle)) found.push(`${path.relative(dir.path, file)}: ${needle}`);
      const match = otherTenant.exec(bytes.toString('latin1'));
      if (match) found.push(`${path.relative(dir.path, file)}: tenant id at byte ${match.index}`);
    }
    assert.deepEqual(found, [], `${name} holds nothing of ${OTHER[name]}`);
    const ownFound = files.some((file) => existsSync(file) && readFileSync(file).includes(PEOPLE[name].customer.slice(1)));
    assert.ok(ownFound, `${name}: its own customer's number is in its files (the search finds what is there)`);
  }
}

before(async () => {
  dir = createTempDir('waygate-residency-');
  const logFile = (processName: string) => {
    const [first, rest] = processName.split('/');
    // `eu/ingress` -> <data>/eu/logs/ingress.log; the simulator is Meta, outside both regions.
    return rest === undefined ? path.join(dir.path, 'meta', `${first}.log`) : path.join(dir.path, first as string, 'logs', `${rest}.log`);
  };
  stack = await startLocalStack({
    dataDir: dir.path,
    regions: ['eu', 'us'],
    ports: await freeStackPorts(),
    regionPorts: { us: await freeStackPorts() },
    serviceEnv: { WAYGATE_LOG_LEVEL: 'debug' },
    onLine: (processName, line) => {
      lines.push({ process: processName, line });
      const file = logFile(processName);
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, `${line}\n`);
    },
  });
  clients = loadPublicClients();
  for (const name of ['eu', 'us'] as const) messaging.set(name, clients.messaging(`127.0.0.1:${region(name).ports.grpc.ingress}`));
});

after(async () => {
  for (const client of messaging.values()) client.close();
  await stack?.stop();
  if (process.exitCode && lines.length > 0) {
    process.stderr.write(
      `${lines
        .slice(-80)
        .map((l) => `${l.process}: ${l.line}`)
        .join('\n')}\n`,
    );
  }
  dir?.remove();
});

describe('two regions side by side keep their own data', () => {
  for (const name of ['eu', 'us'] as const) {
    test(`${name}: the tenant's customer writes (text, then an image), the tenant answers, and the archive has it all`, async () => {
      const own = region(name);
      const people = PEOPLE[name];
      const waId = people.customer.slice(1);
      await customerWrites(name, { type: 'text', from: waId, profileName: `${name}-customer`, text: people.inbound });
      await customerWrites(name, {
        type: 'image',
        from: waId,
        profileName: `${name}-customer`,
        caption: people.caption,
        media: { base64: imageBytes(people.media).toString('base64'), mimeType: 'image/jpeg' },
      });
      const client = messaging.get(name) as Client;
      // ingress's view of the customer's window follows receipt within about a second.
      const sent = await untilWindowOpen(() =>
        callUnary<{ message_id: string }>(
          client,
          'SendMessage',
          { to: people.customer, text: { body: people.outbound }, idempotency_key: `residency-${name}` },
          own.tenant.apiKey,
        ),
      );
      await waitFor(
        async () => {
          const message = await callUnary<{ status: string }>(client, 'GetMessage', { message_id: sent.message_id }, own.tenant.apiKey);
          return message.status === 'MESSAGE_STATUS_READ';
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${name}: the message READ` },
      );
      const archive = clients.archive(`127.0.0.1:${own.ports.grpc.archive}`);
      try {
        await waitFor(
          async () => {
            const listed = await callUnary<{ events: { status: string }[] }>(
              archive,
              'ListMessageEvents',
              { message_id: sent.message_id },
              own.tenant.apiKey,
            );
            return listed.events.some((event) => event.status === 'MESSAGE_STATUS_READ');
          },
          { timeoutMs: 15_000, what: `${name}: the archive has the READ status` },
        );
      } finally {
        archive.close();
      }
      const archivedInbound = () =>
        lines.filter(
          (l) => l.process === own.processName('archive') && l.line.includes('"event archived"') && l.line.includes('"kind":"inbound"'),
        );
      await waitFor(() => archivedInbound().length >= 2, { timeoutMs: 15_000, what: `${name}: both inbound messages archived` });
      const db = new Database(path.join(own.dataDir, 'media-store.sqlite'), { readonly: true });
      try {
        const blobs = db.prepare('SELECT tenant_id FROM vault_media').pluck().all();
        assert.deepEqual(blobs, [own.tenant.tenantId], `${name}: the image is in its own media-store, for its tenant`);
      } finally {
        db.close();
      }
    });
  }

  for (const name of ['eu', 'us'] as const) {
    test(`${name} refuses the other region's key with FAILED_PRECONDITION naming its home region, and stores nothing`, async () => {
      const other = region(OTHER[name]);
      await assert.rejects(
        callUnary(
          messaging.get(name) as Client,
          'SendMessage',
          { to: PEOPLE[OTHER[name]].customer, text: { body: PEOPLE[OTHER[name]].outbound }, idempotency_key: `refused-${name}` },
          other.tenant.apiKey,
        ),
        (error: unknown) => {
          assert.equal((error as ServiceError).code, grpcStatus.FAILED_PRECONDITION);
          assert.match((error as ServiceError).details, new RegExp(`homed in region "${OTHER[name]}"`));
          assert.deepEqual(
            preconditionViolations(error as ServiceError).map((v) => v.type),
            ['TENANT_REGION'],
          );
          return true;
        },
      );
      const db = new Database(path.join(region(name).dataDir, 'ingress.sqlite'), { readonly: true });
      try {
        assert.equal(db.prepare('SELECT COUNT(*) FROM messages WHERE tenant_id = ?').pluck().get(other.tenant.tenantId), 0);
      } finally {
        db.close();
      }
    });
  }

  test('a signed messages webhook for the us number posted to eu is answered and not processed; a us template webhook is forwarded', async () => {
    const us = region('us');
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: us.tenant.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: us.tenant.displayPhoneNumber.slice(1), phone_number_id: us.tenant.phoneNumberId },
                contacts: [{ profile: { name: 'Misrouted' }, wa_id: MISROUTED.customer.slice(1) }],
                messages: [
                  {
                    from: MISROUTED.customer.slice(1),
                    id: 'wamid.misrouted1',
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: 'text',
                    text: { body: MISROUTED.text },
                  },
                ],
              },
            },
            {
              field: 'message_template_status_update',
              value: {
                event: 'APPROVED',
                message_template_id: 77,
                message_template_name: 'order_update',
                message_template_language: 'en_US',
              },
            },
          ],
        },
      ],
    });
    const processed = () => lines.filter((l) => l.process === us.processName('receipt') && l.line.includes('"webhook processed"')).length;
    const processedBefore = processed();
    const response = await fetch(region('eu').webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', us.tenant.appSecret).update(body).digest('hex')}`,
      },
      body,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'forwarded' });
    await waitFor(() => processed() > processedBefore, { what: 'us receipt to process the forwarded template webhook' });
    await waitFor(
      () => lines.some((l) => l.process === 'eu/receipt' && l.line.includes('template/account webhook forwarded to its region')),
      {
        what: "eu receipt's forward log line",
      },
    );
  });

  test("while running (SQLite WAL files in place), no file of a region holds the other region's customers, texts or tenant id", () => {
    assertNoTraceOfTheOtherRegion({ running: true });
  });

  test('after a clean stop (every log line written, WAL checkpointed), still none', async () => {
    await stack.stop();
    assertNoTraceOfTheOtherRegion({ running: false });
  });
});
