/**
 * End to end: the real processes (nats-server, the WhatsApp simulator, the five services on SQLite), started by the
 * same code as `npm start`, on free ports in a temporary folder; a client built from the public protos.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { badRequestViolations, checkGrpcHealth, preconditionViolations } from '@waygate/grpc';
import { connectJetStream, regionStreams, type JetStreamConnection } from '@waygate/nats';
import { createTempDir, freePort, waitFor } from '@waygate/testing';
import { customerWritesFirst, SERVICES, startLocalStack, untilWindowOpen, type LocalStack, type StackPorts } from '@waygate/local-run';
import { callUnary, listServicesByReflection, loadPublicClients } from './proto-clients';

const RECIPIENT = '+4915112345678';
const SECRET_TEXT = 'Your parcel 7731 arrives today';

interface WireMessage {
  message_id: string;
  to: string;
  status: string;
  wa_message_id: string;
  timeline: { status: string; source: string; occurred_at: { seconds: string }; error_code: number }[];
}

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let ports: StackPorts;
const logLines: { process: string; line: string }[] = [];
let traceFile: string;
let clients: ReturnType<typeof loadPublicClients>;
let messaging: Client;
let nats: JetStreamConnection;

async function freePorts(): Promise<StackPorts> {
  const take = async () => freePort();
  return {
    nats: await take(),
    simulator: await take(),
    webhook: await take(),
    grpc: {
      ingress: await take(),
      receipt: await take(),
      'media-store': await take(),
      archive: await take(),
      'delivery-retry': await take(),
    },
  };
}

const isGrpcError = (code: grpcStatus) => (error: unknown) => (error as ServiceError).code === code;

/** Polls GetMessage until the message has reached `status`. */
/** Waits until the message has one of `statuses` (a status may move on between two polls: DELIVERED, then READ). */
function waitForStatus(messageId: string, ...statuses: string[]): Promise<WireMessage> {
  return waitFor(
    async () => {
      const message = await callUnary<WireMessage>(messaging, 'GetMessage', { message_id: messageId }, stack.credentials.apiKey);
      return statuses.includes(message.status) ? message : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `the message to reach ${statuses.join(' or ')}` },
  );
}

before(async () => {
  dir = createTempDir('waygate-e2e-');
  traceFile = path.join(dir.path, 'spans.jsonl');
  ports = await freePorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    serviceEnv: {
      WAYGATE_TRACE_FILE: traceFile,
      WAYGATE_LOG_LEVEL: 'info',
      // Short retry and circuit-breaker intervals, so the outage test recovers within the test's patience.
      WAYGATE_RETRY_BASE_DELAY_MS: '200',
      WAYGATE_RETRY_MAX_DELAY_MS: '1000',
      WAYGATE_BREAKER_COOLDOWN_MS: '300',
      WAYGATE_BREAKER_MAX_COOLDOWN_MS: '1000',
    },
    onLine: (process, line) => logLines.push({ process, line }),
  });
  clients = loadPublicClients();
  messaging = clients.messaging(`127.0.0.1:${ports.grpc.ingress}`);
  nats = await connectJetStream(`nats://127.0.0.1:${ports.nats}`, 'e2e-observer');
});

after(async () => {
  messaging?.close();
  await nats?.nc.close();
  await stack?.stop();
  if (process.exitCode && logLines.length > 0) {
    // On failure, the processes' own logs are the fastest way to see why.
    process.stderr.write(
      `${logLines
        .slice(-80)
        .map((l) => `${l.process}: ${l.line}`)
        .join('\n')}\n`,
    );
  }
  dir?.remove();
});

describe('one WhatsApp message end to end', () => {
  let sent: WireMessage;

  test('every gRPC server reports SERVING, and reflection lists exactly the services it serves', async () => {
    const deadLetters = 'waygate.admin.v1.DeadLetterAdminService';
    const served: Record<string, string[]> = {
      ingress: ['waygate.messaging.v1.MessagingService', 'waygate.verify.v1.VerificationService', deadLetters],
      'delivery-retry': ['waygate.delivery.v1.DeliveryAdminService', deadLetters],
      receipt: ['waygate.receipt.v1.InboundService', 'waygate.receipt.v1.ReceiptService', deadLetters],
      'media-store': ['waygate.media.v1.MediaService', 'waygate.media.v1.MediaAdminService'],
      archive: [
        'waygate.archive.v1.ArchiveService',
        'waygate.governance.v1.ArchiveLogService',
        'waygate.governance.v1.GovernanceService',
        deadLetters,
      ],
    };
    const standard = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];
    for (const service of SERVICES) {
      const address = `127.0.0.1:${ports.grpc[service]}`;
      assert.equal(await checkGrpcHealth(address), 'SERVING', service);
      const reflection = clients.reflection(address);
      try {
        const names = await listServicesByReflection(reflection);
        assert.deepEqual([...names].sort(), [...standard, ...(served[service] ?? [])].sort(), service);
      } finally {
        reflection.close();
      }
    }
  });

  test('an unknown API key is UNAUTHENTICATED', async () => {
    await assert.rejects(
      callUnary(messaging, 'SendMessage', { to: RECIPIENT, text: { body: 'x' }, idempotency_key: 'k' }, 'not-a-key'),
      isGrpcError(grpcStatus.UNAUTHENTICATED),
    );
    await assert.rejects(callUnary(messaging, 'GetMessage', { message_id: 'msg_x' }), isGrpcError(grpcStatus.UNAUTHENTICATED));
  });

  test('a tenant homed in another region is refused naming its home region, and nothing is stored', async () => {
    await assert.rejects(
      callUnary(messaging, 'SendMessage', { to: RECIPIENT, text: { body: 'x' }, idempotency_key: 'us-1' }, stack.credentials.usApiKey),
      (error: unknown) => {
        assert.equal((error as ServiceError).code, grpcStatus.FAILED_PRECONDITION);
        assert.match((error as ServiceError).details, /homed in region "us"/);
        return true;
      },
    );
    const db = new Database(path.join(dir.path, 'eu', 'ingress.sqlite'), { readonly: true });
    try {
      assert.equal(db.prepare("SELECT COUNT(*) FROM messages WHERE tenant_id = 'demo-us'").pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  test('an invalid request is INVALID_ARGUMENT with a BadRequest naming each field', async () => {
    await assert.rejects(
      callUnary(messaging, 'SendMessage', { to: '12345', text: { body: '' }, idempotency_key: '' }, stack.credentials.apiKey),
      (error: unknown) => {
        assert.equal((error as ServiceError).code, grpcStatus.INVALID_ARGUMENT);
        assert.deepEqual(
          badRequestViolations(error as ServiceError)
            .map((v) => v.field)
            .sort(),
          ['idempotency_key', 'text.body', 'to'],
        );
        return true;
      },
    );
  });

  test('a sent message moves ACCEPTED -> SENT -> DELIVERED -> READ with its timeline', async () => {
    // Free-form text is only allowed within 24 hours of the customer's last message, as on WhatsApp.
    await customerWritesFirst(stack.simulatorUrl, RECIPIENT);
    // ingress decides from its view of the windows, which follows receipt within about a second.
    const response = await untilWindowOpen(() =>
      callUnary<{ message_id: string; status: string }>(
        messaging,
        'SendMessage',
        { to: RECIPIENT, text: { body: SECRET_TEXT, preview_url: false }, idempotency_key: 'e2e-1', validity: { seconds: 3600 } },
        stack.credentials.apiKey,
      ),
    );
    assert.equal(response.status, 'MESSAGE_STATUS_ACCEPTED');
    const again = await callUnary<{ message_id: string }>(
      messaging,
      'SendMessage',
      { to: RECIPIENT, text: { body: SECRET_TEXT, preview_url: false }, idempotency_key: 'e2e-1', validity: { seconds: 3600 } },
      stack.credentials.apiKey,
    );
    assert.equal(again.message_id, response.message_id, 'idempotent retry returns the same message');

    sent = await waitForStatus(response.message_id, 'MESSAGE_STATUS_READ');
    assert.equal(sent.to, RECIPIENT);
    const statuses = sent.timeline.map((entry) => entry.status.replace('MESSAGE_STATUS_', ''));
    assert.equal(statuses[0], 'ACCEPTED');
    for (const expected of ['SENT', 'DELIVERED', 'READ']) assert.ok(statuses.includes(expected), statuses.join(','));
    assert.ok(sent.timeline.some((e) => e.source === 'webhook') && sent.timeline.some((e) => e.source === 'delivery'));

    const simulatorSent = (await (await fetch(`${stack.simulatorUrl}/_simulator/sent`)).json()) as
      { wamid: string; to: string }[] | { messages: { wamid: string }[] };
    const wamids = (Array.isArray(simulatorSent) ? simulatorSent : simulatorSent.messages).map((m) => m.wamid);
    assert.deepEqual(wamids, [sent.wa_message_id], 'WhatsApp got exactly one send, and its wamid is on the message');
  });

  test('free-form text to a customer who never wrote is refused at once (SERVICE_WINDOW_CLOSED); once they write, it is accepted within seconds', async () => {
    const customer = '+4915199990000';
    const request = { to: customer, text: { body: 'unprompted' }, idempotency_key: 'e2e-no-window' };
    await assert.rejects(callUnary(messaging, 'SendMessage', request, stack.credentials.apiKey), (error: unknown) => {
      assert.equal((error as ServiceError).code, grpcStatus.FAILED_PRECONDITION);
      assert.deepEqual(
        preconditionViolations(error as ServiceError).map((v) => v.type),
        ['SERVICE_WINDOW_CLOSED'],
      );
      return true;
    });
    const sentTo = async () => {
      const sent = (await (await fetch(`${stack.simulatorUrl}/_simulator/sent`)).json()) as
        { to: string }[] | { messages: { to: string }[] };
      return (Array.isArray(sent) ? sent : sent.messages).filter((m) => m.to === customer).length;
    };
    assert.equal(await sentTo(), 0, 'WhatsApp never got it (no certain 131047)');

    await customerWritesFirst(stack.simulatorUrl, customer);
    const startedAt = Date.now();
    // Nothing was stored for the refusal, so the same idempotency key is free.
    const response = await untilWindowOpen(() =>
      callUnary<{ message_id: string }>(messaging, 'SendMessage', request, stack.credentials.apiKey),
    );
    assert.ok(Date.now() - startedAt < 10_000, `accepted ${Date.now() - startedAt} ms after the customer wrote`);
    const delivered = await waitForStatus(response.message_id, 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ');
    assert.equal(delivered.to, customer);
  });

  test('during an upstream outage a message is retried with each attempt in its timeline, and can be cancelled: CANCELED, never sent', async () => {
    const control = (method: string, body?: unknown) =>
      fetch(`${stack.simulatorUrl}/_simulator/failures`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await customerWritesFirst(stack.simulatorUrl, '+4915199991111');
    assert.equal((await control('POST', { httpStatus: 503, code: 2, message: 'Service temporarily unavailable' })).status, 200);
    try {
      const response = await untilWindowOpen(() =>
        callUnary<{ message_id: string }>(
          messaging,
          'SendMessage',
          { to: '+4915199991111', text: { body: 'not yet' }, idempotency_key: 'e2e-cancel' },
          stack.credentials.apiKey,
        ),
      );
      const retried = await waitFor(
        async () => {
          const message = await callUnary<{
            status: string;
            timeline: { attempt?: number; error_code?: number; next_attempt_at?: unknown }[];
          }>(messaging, 'GetMessage', { message_id: response.message_id }, stack.credentials.apiKey);
          return message.timeline.some((entry) => entry.attempt === 1 && entry.error_code === 2 && entry.next_attempt_at)
            ? message
            : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'the first failed attempt in the timeline' },
      );
      assert.equal(retried.status, 'MESSAGE_STATUS_ACCEPTED', 'a retried attempt does not change the status');
      const canceled = await waitFor(
        async () => {
          try {
            return await callUnary<{ status: string }>(
              messaging,
              'CancelMessage',
              { message_id: response.message_id },
              stack.credentials.apiKey,
            );
          } catch (error) {
            // ABORTED: an attempt was in flight at that moment; calling again is the documented answer.
            if ((error as ServiceError).code === grpcStatus.ABORTED) return undefined;
            throw error;
          }
        },
        { timeoutMs: 10_000, intervalMs: 50, what: 'the cancellation' },
      );
      assert.equal(canceled.status, 'MESSAGE_STATUS_CANCELED');
      assert.equal((await waitForStatus(response.message_id, 'MESSAGE_STATUS_CANCELED')).status, 'MESSAGE_STATUS_CANCELED');
      await control('DELETE');
      const sent = (await (await fetch(`${stack.simulatorUrl}/_simulator/sent`)).json()) as
        { to: string }[] | { messages: { to: string }[] };
      const list = Array.isArray(sent) ? sent : sent.messages;
      assert.equal(list.filter((m) => m.to === '+4915199991111').length, 0, 'WhatsApp never got it');
    } finally {
      await control('DELETE');
    }
  });

  test('a message WhatsApp accepted cannot be cancelled (FAILED_PRECONDITION)', async () => {
    await customerWritesFirst(stack.simulatorUrl, RECIPIENT);
    const response = await untilWindowOpen(() =>
      callUnary<{ message_id: string }>(
        messaging,
        'SendMessage',
        { to: RECIPIENT, text: { body: 'too late to cancel' }, idempotency_key: 'e2e-cancel-sent' },
        stack.credentials.apiKey,
      ),
    );
    await waitForStatus(response.message_id, 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ');
    await assert.rejects(
      callUnary(messaging, 'CancelMessage', { message_id: response.message_id }, stack.credentials.apiKey),
      isGrpcError(grpcStatus.FAILED_PRECONDITION),
    );
  });

  test("marketing opt-outs reach ingress through receipt: the customer's STOP, then Meta's user_preferences resume and stop", async () => {
    const customer = '+4915199992222';
    const simulator = (route: string, body: unknown) =>
      fetch(`${stack.simulatorUrl}/_simulator/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const optOutSource = async () => {
      const listed = await callUnary<{ opt_outs: { phone_number: string; source: string }[] }>(
        messaging,
        'ListOptOuts',
        { page_size: 500 },
        stack.credentials.apiKey,
      );
      return listed.opt_outs.find((optOut) => optOut.phone_number === customer)?.source ?? 'none';
    };
    const waitForSource = (source: string) =>
      waitFor(optOutSource, { until: (current) => current === source, timeoutMs: 15_000, what: `opt-out source ${source}` });

    assert.equal((await simulator('inbound', { message: { type: 'text', from: customer.slice(1), text: ' Stop ' } })).status, 200);
    await waitForSource('OPT_OUT_SOURCE_STOP_KEYWORD');
    assert.equal((await simulator('user-preferences', { from: customer.slice(1), value: 'resume' })).status, 200);
    await waitForSource('none');
    assert.equal((await simulator('user-preferences', { from: customer.slice(1), value: 'stop' })).status, 200);
    await waitForSource('OPT_OUT_SOURCE_USER_PREFERENCES');
  });

  test('an unknown message id is NOT_FOUND', async () => {
    // Tenant scoping of reads is covered by the store contract suites and the archive/media-store server tests.
    await assert.rejects(
      callUnary(messaging, 'GetMessage', { message_id: `${sent.message_id}x` }, stack.credentials.apiKey),
      isGrpcError(grpcStatus.NOT_FOUND),
    );
  });

  test('no consumer gave up on any message in the whole run; every dead-letter admin API takes only the internal token', async () => {
    for (const service of ['ingress', 'delivery-retry', 'receipt', 'archive'] as const) {
      const admin = clients.deadLetterAdmin(`127.0.0.1:${ports.grpc[service]}`);
      try {
        const listed = await callUnary<{ dead_letters: unknown[] }>(
          admin,
          'ListConsumerDeadLetters',
          {},
          stack.credentials.internalServiceToken,
        );
        assert.deepEqual(listed.dead_letters, [], service);
        await assert.rejects(
          callUnary(admin, 'ListConsumerDeadLetters', {}, stack.credentials.apiKey),
          isGrpcError(grpcStatus.UNAUTHENTICATED),
          service,
        );
      } finally {
        admin.close();
      }
    }
    assert.equal(logLines.filter((l) => l.line.includes('dead-letter stream')).length, 0);
  });

  test('the internal service token is no tenant credential: tenant APIs refuse it even with a tenant id', async () => {
    const actingFor = { 'x-waygate-tenant-id': 'demo' };
    const archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
    try {
      await assert.rejects(
        callUnary(
          messaging,
          'SendMessage',
          { to: RECIPIENT, text: { body: 'not from a tenant' }, idempotency_key: 'e2e-token-as-tenant' },
          stack.credentials.internalServiceToken,
          actingFor,
        ),
        isGrpcError(grpcStatus.UNAUTHENTICATED),
      );
      await assert.rejects(
        callUnary(archive, 'ListMessageEvents', { message_id: sent.message_id }, stack.credentials.internalServiceToken, actingFor),
        isGrpcError(grpcStatus.UNAUTHENTICATED),
      );
    } finally {
      archive.close();
    }
  });

  test("delivery-retry's admin API refuses a tenant's API key: a made-up id is not cancelled, recorded or announced", async () => {
    const admin = clients.deliveryAdmin(`127.0.0.1:${ports.grpc['delivery-retry']}`);
    const archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
    const madeUp = 'msg_0000000000000000000000000000000000000000e2e';
    try {
      for (const method of ['CancelDelivery', 'GetDelivery']) {
        await assert.rejects(
          callUnary(admin, method, { message_id: madeUp }, stack.credentials.apiKey),
          isGrpcError(grpcStatus.UNAUTHENTICATED),
          method,
        );
      }
      const db = new Database(path.join(dir.path, 'eu', 'delivery-retry.sqlite'), { readonly: true });
      try {
        assert.equal(db.prepare('SELECT COUNT(*) FROM deliveries WHERE message_id = ?').pluck().get(madeUp), 0, 'no CANCELED placeholder');
      } finally {
        db.close();
      }
      const listed = await callUnary<{ events: unknown[] }>(archive, 'ListMessageEvents', { message_id: madeUp }, stack.credentials.apiKey);
      assert.deepEqual(listed.events, [], 'nothing reached the archive');
    } finally {
      admin.close();
      archive.close();
    }
  });

  test("the archive keeps the customers' inbound messages without logging an ERROR", async () => {
    const archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
    try {
      // Earlier tests had the customer write first (the simulator posts it to receipt, which announces it).
      const archived = await waitFor(
        () =>
          logLines
            .filter((l) => l.process === 'archive' && l.line.includes('"event archived"') && l.line.includes('"kind":"inbound"'))
            .map((l) => JSON.parse(l.line) as { message_id: string })[0],
        { timeoutMs: 10_000, what: 'an inbound message archived' },
      );
      const listed = await callUnary<{ events: { kind: string; status: string }[] }>(
        archive,
        'ListMessageEvents',
        { message_id: archived.message_id },
        stack.credentials.apiKey,
      );
      assert.deepEqual(
        listed.events.map((e) => [e.kind, e.status]),
        [['inbound', 'MESSAGE_STATUS_UNSPECIFIED']],
      );
      const errors = logLines.filter((l) => l.process === 'archive' && /"level":"(error|fatal)"/.test(l.line));
      assert.deepEqual(errors, []);
    } finally {
      archive.close();
    }
  });

  test('the archive recorded the acceptance and every status', async () => {
    const archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
    try {
      const events = await waitFor(
        async () => {
          const result = await callUnary<{ events: { kind: string; status: string; text_body: string }[] }>(
            archive,
            'ListMessageEvents',
            { message_id: sent.message_id },
            stack.credentials.apiKey,
          );
          const statuses = result.events.map((e) => e.status);
          return ['MESSAGE_STATUS_ACCEPTED', 'MESSAGE_STATUS_SENT', 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ'].every((s) =>
            statuses.includes(s),
          )
            ? result.events
            : undefined;
        },
        { timeoutMs: 10_000, what: 'archive events' },
      );
      assert.equal(events[0].kind, 'accepted');
      assert.equal(events[0].text_body, SECRET_TEXT);
    } finally {
      archive.close();
    }
  });

  test('a webhook with a bad signature is refused and changes nothing', async () => {
    const webhooks = regionStreams('eu').webhooks.name;
    const queuedBefore = (await nats.jsm.streams.info(webhooks)).state.messages;
    const forged = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: stack.credentials.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '1', phone_number_id: stack.credentials.phoneNumberId },
                statuses: [
                  {
                    id: sent.wa_message_id,
                    status: 'failed',
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    recipient_id: '4915112345678',
                    errors: [{ code: 131026, title: 'Message undeliverable' }],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const signature = `sha256=${createHmac('sha256', 'not-the-app-secret').update(forged).digest('hex')}`;
    const response = await fetch(stack.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body: forged,
    });
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { error: string }).error, /signature/i);
    assert.equal((await nats.jsm.streams.info(webhooks)).state.messages, queuedBefore, 'nothing was queued');
    const after = await callUnary<WireMessage>(messaging, 'GetMessage', { message_id: sent.message_id }, stack.credentials.apiKey);
    assert.equal(after.status, 'MESSAGE_STATUS_READ');
    assert.equal(after.timeline.length, sent.timeline.length);
  });

  test('media-store stores and returns a blob', async () => {
    const media = clients.media(`127.0.0.1:${ports.grpc['media-store']}`);
    try {
      const content = Buffer.from('%PDF-1.4 invoice');
      const put = await callUnary<{ media_id: string; sha256: string }>(
        media,
        'PutMedia',
        { content, mime_type: 'application/pdf', filename: 'invoice.pdf' },
        stack.credentials.apiKey,
      );
      const got = await callUnary<{ content: Buffer; sha256: string }>(
        media,
        'GetMedia',
        { media_id: put.media_id },
        stack.credentials.apiKey,
      );
      assert.deepEqual(Buffer.from(got.content), content);
      assert.equal(got.sha256, put.sha256);
    } finally {
      media.close();
    }
  });

  test("one trace holds the message's spans from ingress, delivery-retry, receipt and archive", async () => {
    const accepted = logLines.find(
      (l) => l.process === 'ingress' && l.line.includes('"message accepted"') && l.line.includes(sent.message_id),
    );
    assert.ok(accepted, 'ingress logged the acceptance');
    const traceId = (JSON.parse(accepted.line) as { trace_id: string }).trace_id;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(traceId, '0'.repeat(32));
    const services = await waitFor(
      () => {
        if (!existsSync(traceFile)) return undefined;
        const spans = readFileSync(traceFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { service: string; traceId: string });
        const inTrace = new Set(spans.filter((span) => span.traceId === traceId).map((span) => span.service));
        return ['ingress', 'delivery-retry', 'receipt', 'archive'].every((s) => inTrace.has(s)) ? inTrace : undefined;
      },
      { timeoutMs: 10_000, what: 'spans from all services in the message trace' },
    );
    assert.ok(services.size >= 4);
  });

  test('no process logged the message text or the raw recipient number', () => {
    const leaks = logLines.filter((l) => l.line.includes(SECRET_TEXT) || l.line.includes(RECIPIENT.slice(1)));
    assert.deepEqual(leaks, []);
  });

  test('SIGTERM drains every service and each exits cleanly', async () => {
    await stack.stop();
    for (const service of SERVICES) {
      const child = stack.processes.get(service);
      assert.equal(child?.exitCode, 0, `${service} exit code`);
      assert.ok(
        logLines.some((l) => l.process === service && l.line.includes('"draining and stopping"')) &&
          logLines.some((l) => l.process === service && l.line.includes('"msg":"stopped"')),
        `${service} drained and stopped`,
      );
    }
  });
});
