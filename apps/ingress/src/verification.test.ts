/**
 * VerificationService through ingress as main.ts starts it (real nats-server, SQLite files, gRPC over loopback), with
 * the WhatsApp simulator as Meta's template API and an injected clock: codes are sent as the template defines them
 * (sealed on the send path, opened here the way delivery-retry opens them), checked, limited, expired, cancelled; a
 * FAILED message makes its verification UNDELIVERABLE. delivery-retry is not running: tools/e2e's
 * verification.e2e.test.ts runs the whole stack.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import type { Clock } from '@waygate/domain';
import { badRequestViolations, preconditionViolations, retryDelayMs } from '@waygate/grpc';
import {
  createCustomerSealer,
  createKeyring,
  decodeKey,
  JetStreamWrappedKeyStore,
  openSealedText,
  toKeyEncryptionKey,
} from '@waygate/keyring';
import { publishEvent, regionSubjects } from '@waygate/nats';
import {
  ListMessagesRequest,
  MessageStatus,
  MessageStatusChanged,
  SendMessageRequest,
  StatusSource,
  ProtoVerificationStatus as Status,
  VerificationServiceClient,
  CheckVerificationRequest,
  StartVerificationRequest,
  type CheckVerificationResponse,
  type StartVerificationResponse,
} from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { seedTemplates, startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

const WABA = '102290129340398';
const NUMBER = { id: '106540352242922', displayPhoneNumber: '+15550102030', accessToken: 'EAAtoken-acme', wabaId: WABA };
const TENANTS = [
  {
    id: 'acme',
    homeRegion: 'eu' as const,
    apiKey: 'key-acme',
    wabaId: WABA,
    phoneNumberIds: [NUMBER.id],
    accessToken: NUMBER.accessToken,
    verification: { defaultTemplate: { name: 'login_code', language: 'en_US' }, sendsPerNumberPerHour: 3, sendsPerTenantPerHour: 6 },
  },
  // No default template.
  {
    id: 'globex',
    homeRegion: 'eu' as const,
    apiKey: 'key-globex',
    wabaId: WABA,
    phoneNumberIds: ['pn-globex'],
    accessToken: NUMBER.accessToken,
  },
];

let nowMs = Date.now();
const clock: Clock = { now: () => new Date(nowMs) };
let simulator: WhatsAppSimulator;
let harness: IngressHarness;
let client: VerificationServiceClient;
let numberSerial = 0;

/** A fresh customer number per test, so limits and the resend guard of one test do not touch another. */
const nextNumber = () => `+49151${String(1_000_000 + ++numberSerial)}`;

function call<Response>(method: 'startVerification' | 'checkVerification' | 'cancelVerification', request: object, apiKey = 'key-acme') {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  const fn = (client[method] as (...args: unknown[]) => unknown).bind(client) as (
    request: object,
    metadata: Metadata,
    callback: (error: ServiceError | null, response: Response) => void,
  ) => void;
  return new Promise<Response>((resolve, reject) =>
    fn(request, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

const start = (request: Partial<StartVerificationRequest>, apiKey?: string) =>
  call<StartVerificationResponse>('startVerification', StartVerificationRequest.fromPartial(request), apiKey);
const check = (request: Partial<CheckVerificationRequest>) =>
  call<CheckVerificationResponse>('checkVerification', CheckVerificationRequest.fromPartial(request));
const code = (error: unknown) => (error as ServiceError).code;

/** The message rows of the verification's message, read from ingress's SQLite file. */
function messageRow(messageId: string): { content_json: string; request_hash: string; expires_at_ms: number } {
  const db = new Database(harness.config.storage.kind === 'sqlite' ? harness.config.storage.file : '', { readonly: true });
  try {
    return db.prepare('SELECT content_json, request_hash, expires_at_ms FROM messages WHERE message_id = ?').get(messageId) as never;
  } finally {
    db.close();
  }
}

/** The region keyring, as every service of the region opens it (the local KEK file beside the databases). */
async function regionKeyring() {
  if (harness.config.storage.kind !== 'sqlite') throw new Error('sqlite only');
  const kek = decodeKey(readFileSync(path.join(path.dirname(harness.config.storage.file), 'keyring.kek'), 'utf8'));
  assert.ok(kek);
  return createKeyring({
    store: await JetStreamWrappedKeyStore.open(harness.events.js, 'eu'),
    keks: { active: toKeyEncryptionKey(kek), retired: [] },
    clock,
  });
}

/** A message row's content JSON: stored sealed under the customer's data key (issue 14), opened here. */
async function contentJsonOf(row: { content_json: string }): Promise<string> {
  assert.ok(row.content_json.startsWith('wgsealed:v1:'), 'the content is sealed at rest');
  const opened = await createCustomerSealer(await regionKeyring()).open('acme', row.content_json);
  assert.ok(opened !== undefined);
  return opened;
}

/** The code of a verification's message, opened from its sealed parameter with the region keyring, as delivery-retry does. */
async function codeOf(messageId: string): Promise<string> {
  const sealed = /"(wgsealed:v1:[^"]+)"/.exec(await contentJsonOf(messageRow(messageId)))?.[1];
  assert.ok(sealed, 'the stored parameter is sealed');
  return openSealedText(await regionKeyring(), 'acme', sealed);
}

before(async () => {
  simulator = await startSimulator({ appSecret: 'secret', phoneNumbers: [NUMBER], templates: seedTemplates(WABA) });
  harness = await startIngressHarness({ tenants: TENANTS, clock, env: { WAYGATE_WHATSAPP_API_BASE_URL: simulator.url } });
  client = new VerificationServiceClient(`127.0.0.1:${harness.ingress.grpcPort}`, credentials.createInsecure());
  // The catalog is read from the simulator at start; until then a template is UNAVAILABLE.
  await waitFor(
    async () => {
      try {
        await start({ to: nextNumber() });
        return true;
      } catch (error) {
        if (code(error) !== grpcStatus.UNAVAILABLE) throw error;
        return false;
      }
    },
    { what: 'the template catalog to be synced' },
  );
  nowMs += 2 * 3_600_000; // that probe no longer counts against the limits
});

after(async () => {
  client?.close();
  await harness?.stop();
  await simulator?.stop();
});

describe('VerificationService in ingress', () => {
  test('start: PENDING, expiring at the template lifetime; the message carries the code sealed, shows the template, and its hash is keyed', async () => {
    const to = nextNumber();
    const startedAt = nowMs;
    const started = await start({ to });
    assert.equal(started.status, Status.VERIFICATION_STATUS_PENDING);
    assert.match(started.verificationId, /^ver_/);
    assert.equal(started.resentSuppressed, false);
    // login_code: code_expiration_minutes 10, message_send_ttl_seconds 300: 5 minutes, and the message agrees.
    assert.equal(started.expiresAt?.getTime(), startedAt + 300_000);
    const row = messageRow(started.messageId);
    assert.equal(row.expires_at_ms, startedAt + 300_000);
    const secret = await codeOf(started.messageId);
    assert.match(secret, /^\d{6}$/);
    assert.ok(!row.content_json.includes(secret), 'no plaintext code in the stored content');
    assert.ok(!(await contentJsonOf(row)).includes(secret), 'no plaintext code in the opened content either');
    const content = JSON.parse(await contentJsonOf(row)) as {
      name: string;
      components: { type: string; subType: string; index: number }[];
    };
    assert.equal(content.name, 'login_code');
    assert.deepEqual(
      content.components.map((c) => [c.type, c.subType, c.index]),
      [
        ['body', '', 0],
        ['button', 'url', 0],
      ],
    );
    const message = await harness.unary<{ contentSummary: string }>('getMessage', { messageId: started.messageId });
    assert.equal(message.contentSummary, 'template login_code (en_US)');
    assert.ok(
      harness.logLines.every((line) => !line.includes(secret)),
      'no log line has the code',
    );
  });

  test('the right code approves once; checking again says APPROVED with no second effect; by `to` too', async () => {
    const to = nextNumber();
    const started = await start({ to, codeLength: 8 });
    const secret = await codeOf(started.messageId);
    assert.equal(secret.length, 8);
    const approved = await check({ verificationId: started.verificationId, code: secret });
    assert.equal(approved.status, Status.VERIFICATION_STATUS_APPROVED);
    assert.equal(approved.attemptsLeft, 0);
    assert.equal((await check({ to, code: secret })).status, Status.VERIFICATION_STATUS_APPROVED);
    assert.equal((await check({ to, code: '00000000' })).status, Status.VERIFICATION_STATUS_APPROVED, 'final: no attempt counted');
  });

  test('five wrong codes fail it; the right code afterwards does not approve', async () => {
    const to = nextNumber();
    const started = await start({ to });
    const secret = await codeOf(started.messageId);
    const wrong = secret === '000000' ? '111111' : '000000';
    const left: number[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await check({ verificationId: started.verificationId, code: wrong });
      assert.equal(answer.status, Status.VERIFICATION_STATUS_PENDING);
      left.push(answer.attemptsLeft);
    }
    assert.deepEqual(left, [4, 3, 2, 1]);
    assert.equal((await check({ verificationId: started.verificationId, code: wrong })).status, Status.VERIFICATION_STATUS_FAILED);
    assert.equal((await check({ verificationId: started.verificationId, code: secret })).status, Status.VERIFICATION_STATUS_FAILED);
  });

  test('expiry follows the clock: the right code after expires_at is EXPIRED', async () => {
    const started = await start({ to: nextNumber() });
    const secret = await codeOf(started.messageId);
    nowMs += 299_000;
    const stillPending = await check({ verificationId: started.verificationId, code: '1' });
    assert.equal(stillPending.status, Status.VERIFICATION_STATUS_PENDING);
    nowMs += 1_000;
    assert.equal((await check({ verificationId: started.verificationId, code: secret })).status, Status.VERIFICATION_STATUS_EXPIRED);
  });

  test('a start for the same number within 30 s returns the pending verification and sends nothing; after 30 s a new code', async () => {
    const to = nextNumber();
    const first = await start({ to });
    nowMs += 29_000;
    const again = await start({ to });
    assert.equal(again.verificationId, first.verificationId);
    assert.equal(again.messageId, first.messageId);
    assert.equal(again.resentSuppressed, true);
    const listed = await harness.unary<{ messages: unknown[] }>('listMessages', ListMessagesRequest.fromPartial({ to }));
    assert.equal(listed.messages.length, 1, 'one message only');
    nowMs += 2_000;
    const third = await start({ to });
    assert.notEqual(third.verificationId, first.verificationId);
    // The older code no longer approves a check by number: the newest verification is checked.
    const oldCode = await codeOf(first.messageId);
    const newCode = await codeOf(third.messageId);
    if (oldCode !== newCode) assert.equal((await check({ to, code: oldCode })).status, Status.VERIFICATION_STATUS_PENDING);
    nowMs += 3_600_000;
  });

  test('hourly limits per number and per tenant: RESOURCE_EXHAUSTED with RetryInfo; nothing sent', async () => {
    const to = nextNumber();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      times.push(nowMs);
      const started = await start({ to });
      await call('cancelVerification', { verificationId: started.verificationId });
      nowMs += 60_000;
    }
    const error = await start({ to }).then(
      () => assert.fail('a fourth code within the hour'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(error.code, grpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(retryDelayMs(error), (times[0] ?? 0) + 3_600_000 - nowMs);
    const listed = await harness.unary<{ messages: unknown[] }>('listMessages', ListMessagesRequest.fromPartial({ to }));
    assert.equal(listed.messages.length, 3);
    // Per tenant: 6 per hour; 3 counted above.
    for (let i = 0; i < 3; i++) await start({ to: nextNumber() });
    const tenantError = await start({ to: nextNumber() }).then(
      () => assert.fail('over the tenant limit'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(tenantError.code, grpcStatus.RESOURCE_EXHAUSTED);
    assert.match(tenantError.details, /tenant/);
    assert.ok((retryDelayMs(tenantError) ?? 0) > 0);
    nowMs += 3_700_000;
  });

  test('cancel: PENDING becomes CANCELED (again: CANCELED); its code never approves; a final one is FAILED_PRECONDITION', async () => {
    const started = await start({ to: nextNumber() });
    const secret = await codeOf(started.messageId);
    const canceled = await call<{ status: Status }>('cancelVerification', { verificationId: started.verificationId });
    assert.equal(canceled.status, Status.VERIFICATION_STATUS_CANCELED);
    assert.equal(
      (await call<{ status: Status }>('cancelVerification', { verificationId: started.verificationId })).status,
      Status.VERIFICATION_STATUS_CANCELED,
    );
    assert.equal((await check({ verificationId: started.verificationId, code: secret })).status, Status.VERIFICATION_STATUS_CANCELED);
    const other = await start({ to: nextNumber() });
    await check({ verificationId: other.verificationId, code: await codeOf(other.messageId) });
    const refused = await call('cancelVerification', { verificationId: other.verificationId }).then(
      () => assert.fail('approved cannot be canceled'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(refused.code, grpcStatus.FAILED_PRECONDITION);
    assert.deepEqual(
      preconditionViolations(refused).map((v) => v.type),
      ['VERIFICATION_STATUS'],
    );
  });

  test("a FAILED message (131026, not on WhatsApp) makes its verification UNDELIVERABLE with Meta's error", async () => {
    const started = await start({ to: nextNumber() });
    const event = MessageStatusChanged.fromPartial({
      eventId: `wa:failed:${started.messageId}`,
      tenantId: 'acme',
      messageId: started.messageId,
      status: MessageStatus.MESSAGE_STATUS_FAILED,
      source: StatusSource.STATUS_SOURCE_WEBHOOK,
      occurredAt: new Date(),
      errorCode: 131026,
      errorTitle: 'Message undeliverable',
      waMessageId: 'wamid.x',
    });
    await publishEvent(harness.events.js, regionSubjects('eu').receiptEvents, MessageStatusChanged.encode(event).finish(), event.eventId);
    const answer = await waitFor(
      async () => {
        const checked = await check({ verificationId: started.verificationId, code: '1234' });
        return checked.status === Status.VERIFICATION_STATUS_UNDELIVERABLE ? checked : undefined;
      },
      { what: 'the verification to become UNDELIVERABLE' },
    );
    assert.deepEqual([answer.errorCode, answer.errorTitle, answer.attemptsLeft], [131026, 'Message undeliverable', 0]);
  });

  test('bad requests name the field; templates must be APPROVED AUTHENTICATION ones of the catalog, or the default', async () => {
    const bad = await start({ to: '0151', codeLength: 3, locale: 'english!' }).then(
      () => assert.fail('invalid'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(bad.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(bad)
        .map((v) => v.field)
        .sort(),
      ['code_length', 'locale', 'to'],
    );
    const marketing = await start({ to: nextNumber(), template: 'spring_sale' }).then(
      () => assert.fail('marketing'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(marketing.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(marketing).map((v) => [v.field, v.reason]),
      [['template', 'NOT_AUTHENTICATION_TEMPLATE']],
    );
    assert.equal(code(await start({ to: nextNumber(), template: 'no_such_template' }).catch((e: unknown) => e)), grpcStatus.NOT_FOUND);
    const noDefault = await start({ to: nextNumber() }, 'key-globex').then(
      () => assert.fail('no default'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(noDefault.code, grpcStatus.FAILED_PRECONDITION);
    assert.deepEqual(
      preconditionViolations(noDefault).map((v) => v.type),
      ['NO_DEFAULT_TEMPLATE'],
    );
    const oneTap = await start({ to: nextNumber(), template: 'login_code_one_tap', locale: 'en_US' });
    // login_code_one_tap: code_expiration_minutes 5, no TTL (10 minutes): 5 minutes.
    assert.equal(oneTap.expiresAt?.getTime(), nowMs + 300_000);
    assert.equal(code(await check({ code: '1234' }).catch((e: unknown) => e)), grpcStatus.INVALID_ARGUMENT);
    assert.equal(
      code(await check({ verificationId: oneTap.verificationId, code: '12ab' }).catch((e: unknown) => e)),
      grpcStatus.INVALID_ARGUMENT,
    );
    assert.equal(code(await check({ verificationId: 'ver_unknown', code: '1234' }).catch((e: unknown) => e)), grpcStatus.NOT_FOUND);
    assert.equal(code(await start({ to: nextNumber() }, 'not-a-key').catch((e: unknown) => e)), grpcStatus.UNAUTHENTICATED);
  });

  test('a SendMessage of an authentication template is sealed too; a retry with the same key answers the same message, another code is ALREADY_EXISTS', async () => {
    const to = nextNumber();
    const request = (code: string) =>
      SendMessageRequest.fromPartial({
        to,
        content: {
          $case: 'template',
          value: {
            name: 'login_code',
            language: 'en_US',
            components: [
              { type: 2, parameters: [{ value: { $case: 'text', value: code } }] },
              { type: 3, subType: 'url', index: 0, parameters: [{ value: { $case: 'text', value: code } }] },
            ],
          },
        },
        idempotencyKey: `otp-${to}`,
      });
    const first = await harness.unary<{ messageId: string }>('sendMessage', request('7355608'));
    const again = await harness.unary<{ messageId: string }>('sendMessage', request('7355608'));
    assert.equal(again.messageId, first.messageId);
    const other = await harness.unary('sendMessage', request('1234567')).then(
      () => assert.fail('another code under the same key'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(other.code, grpcStatus.ALREADY_EXISTS);
    const row = messageRow(first.messageId);
    assert.ok(!row.content_json.includes('7355608'));
    assert.ok(!(await contentJsonOf(row)).includes('7355608'));
    assert.equal(await codeOf(first.messageId), '7355608');
  });

  test('a SendMessage may not pass its own text off as sealed', async () => {
    const error = await harness
      .unary(
        'sendMessage',
        SendMessageRequest.fromPartial({
          to: nextNumber(),
          content: {
            $case: 'template',
            value: {
              name: 'login_code',
              language: 'en_US',
              components: [
                { type: 2, parameters: [{ value: { $case: 'text', value: 'wgsealed:v1:x' } }] },
                { type: 3, subType: 'url', index: 0, parameters: [{ value: { $case: 'text', value: 'wgsealed:v1:x' } }] },
              ],
            },
          },
          idempotencyKey: 'sealed-probe',
        }),
      )
      .then(
        () => assert.fail('refused'),
        (e: unknown) => e as ServiceError,
      );
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
  });
});
