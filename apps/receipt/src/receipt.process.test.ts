/**
 * receipt as a real process, killed with SIGKILL in the middle of a stream of webhooks: nothing is lost. A
 * WatchEvents client that reconnects with its last sequence sees every status once and in order, and the tenant's
 * callback endpoint gets every event.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectJetStream, ensureRegionStreams, type JetStreamConnection } from '@waygate/nats';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
} from '@waygate/testing';
import { MessageStatus } from '@waygate/proto';
import { computeWebhookSignature } from '@waygate/whatsapp-simulator';
import { publishStatus, startCallbackReceiver, watch, type Watch } from './feed/testing/feed-harness';
import { statusWebhookJson } from './webhooks/testing/status-webhook';

const TENANT = {
  id: 'acme',
  homeRegion: 'eu' as const,
  apiKey: 'key-acme',
  phoneNumberIds: ['1000001'],
  wabaId: '900',
  appSecret: 'app-secret',
};
const MESSAGES = 300;

let nats: NatsServerHandle;
let connection: JetStreamConnection;

before(async () => {
  nats = await startNatsServer();
  connection = await connectJetStream(nats.url, 'receipt-process-test');
  await ensureRegionStreams(connection.jsm, 'eu');
});
after(async () => {
  await connection.nc.close();
  await nats.stop();
});

/** A WatchEvents client that reconnects after any end, resuming after the last sequence it saw. */
function resumingWatcher(address: string) {
  const streams: Watch[] = [];
  let stopped = false;
  const seen = () =>
    streams.flatMap((stream) =>
      stream.events.flatMap((event) =>
        event.payload?.$case === 'status'
          ? [{ sequence: Number(event.sequence), messageId: event.payload.value.messageId, status: String(event.payload.value.status) }]
          : [],
      ),
    );
  const loop = (async () => {
    while (!stopped) {
      const stream = watch(address, TENANT.apiKey, { afterSequence: String(seen().at(-1)?.sequence ?? 0) });
      streams.push(stream);
      await stream.closed; // receipt went away (or stop() closed the stream)
      stream.close();
      // A real client's reconnect backoff, not a wait in the test: while receipt is down each call fails at once.
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    /** Every status streamed so far, across reconnects. */
    get seen() {
      return seen();
    },
    reconnects: () => streams.length - 1,
    async stop() {
      stopped = true;
      streams.at(-1)?.close();
      await loop;
    },
  };
}

/** POSTs a signed status webhook until receipt answers 200 (as Meta retries); returns the number of attempts. */
async function postUntilAccepted(url: string, statuses: { id: string; status: string; timestamp: string }[]): Promise<number> {
  const body = statusWebhookJson(TENANT.phoneNumberIds[0], statuses, TENANT.wabaId);
  const signature = computeWebhookSignature(TENANT.appSecret, body);
  let attempts = 0;
  await waitFor(
    async () => {
      attempts++;
      // While receipt is down fetch throws, which waitFor counts as "not yet": Meta keeps retrying too.
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body,
      });
      return response.status;
    },
    { until: (status) => status === 200, intervalMs: 100, timeoutMs: 60_000, what: 'receipt to accept a status webhook' },
  );
  return attempts;
}

test('receipt killed with kill -9 mid-stream loses nothing: the resumed stream and the callbacks get every status once, in order', async (t: TestContext) => {
  const dir = createTempDir();
  const receiver = await startCallbackReceiver(200);
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  writeFileSync(
    path.join(dir.path, 'tenants.yaml'),
    tenantsYaml([{ ...TENANT, callbacks: [{ id: 'main', url: receiver.url, signingSecret: 'callback-secret' }] }]),
  );
  const env = {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: path.join(dir.path, 'tenants.yaml'),
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: String(grpcPort),
    WAYGATE_HTTP_PORT: String(httpPort),
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'process-test-internal-token-0123456789abcdef',
    // Inputs a killed process had fetched come back after this; callbacks retry quickly.
    WAYGATE_FEED_ACK_WAIT_MS: '2000',
    WAYGATE_WEBHOOK_ACK_WAIT_MS: '2000',
    WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS: '100',
    WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: '1000',
  };
  const webhookUrl = `http://127.0.0.1:${httpPort}/webhooks/whatsapp`;

  // delivery-retry's SENT events tell receipt which message each wamid is.
  for (let i = 0; i < MESSAGES; i++) {
    await publishStatus(connection.js, {
      eventId: `m-${i}:delivery:sent:1`,
      tenantId: TENANT.id,
      messageId: `m-${i}`,
      status: 'SENT',
      source: 'delivery',
      waMessageId: `wamid.${i}`,
      recipient: `+49151${String(1_000_000 + i)}`,
      attempt: 1,
      occurredAtMs: 1_700_000_000_000,
    });
  }

  let receipt = await startServiceProcess('receipt', env);
  const watcher = resumingWatcher(`127.0.0.1:${grpcPort}`);
  let killedAfter = 0;
  let postRetries = 0;
  try {
    for (let i = 0; i < MESSAGES; i += 10) {
      const batch = Array.from({ length: 10 }, (_, k) => i + k);
      postRetries +=
        (await postUntilAccepted(
          webhookUrl,
          batch.map((n) => ({ id: `wamid.${n}`, status: 'delivered', timestamp: '1700000010' })),
        )) - 1;
      postRetries +=
        (await postUntilAccepted(
          webhookUrl,
          batch.map((n) => ({ id: `wamid.${n}`, status: 'read', timestamp: '1700000020' })),
        )) - 1;
      if (i === MESSAGES / 2) {
        killedAfter = watcher.seen.length;
        await receipt.stop('SIGKILL');
        // Webhooks keep coming while it is down; they are retried until it is back.
        setTimeout(() => {
          void startServiceProcess('receipt', env).then((restarted) => (receipt = restarted));
        }, 500);
      }
    }
    await waitFor(() => watcher.seen.length >= 3 * MESSAGES, {
      what: `${3 * MESSAGES} streamed statuses (have ${watcher.seen.length})`,
      timeoutMs: 60_000,
    });
    await waitFor(() => new Set(receiver.delivered().map((c) => c.headers['waygate-event-id'])).size >= 3 * MESSAGES, {
      what: 'every callback',
      timeoutMs: 60_000,
    });
  } finally {
    await watcher.stop();
    await receipt.stop('SIGTERM');
  }

  const sequences = watcher.seen.map((s) => s.sequence);
  assert.deepEqual(
    sequences,
    [...sequences].sort((a, b) => a - b),
    'in sequence order',
  );
  assert.equal(new Set(sequences).size, sequences.length, 'no event twice across the reconnects');
  const byMessage = new Map<string, string[]>();
  for (const s of watcher.seen) byMessage.set(s.messageId, [...(byMessage.get(s.messageId) ?? []), s.status]);
  assert.equal(byMessage.size, MESSAGES);
  const lifecycle = [MessageStatus.MESSAGE_STATUS_SENT, MessageStatus.MESSAGE_STATUS_DELIVERED, MessageStatus.MESSAGE_STATUS_READ].map(
    String,
  );
  for (const [messageId, statuses] of byMessage) assert.deepEqual(statuses, lifecycle, `${messageId} streamed in order, once each`);
  const callbacks = receiver.delivered().map((c) => c.headers['waygate-event-id'] as string);
  const firstSeen = new Map<string, string[]>();
  for (const id of callbacks) {
    const [, messageId, status] = id.split('.');
    const list = firstSeen.get(messageId) ?? [];
    if (!list.includes(status)) firstSeen.set(messageId, [...list, status]);
  }
  for (const [messageId, order] of firstSeen) assert.deepEqual(order, ['sent', 'delivered', 'read'], `${messageId}: callbacks in order`);
  t.diagnostic(
    `killed after ${killedAfter} streamed events; stream reconnects ${watcher.reconnects()}; webhook POST retries ${postRetries}; callbacks ${callbacks.length} for ${new Set(callbacks).size} events`,
  );
  assert.equal(new Set(callbacks).size, 3 * MESSAGES, 'every event reached the callback endpoint');
  dir.remove();
  await receiver.close();
});
