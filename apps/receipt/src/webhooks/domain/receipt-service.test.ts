import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { loadWebhookFixture } from '@waygate/whatsapp-simulator';
import { SqliteInboundStore } from '../adapters/sqlite-inbound-store';
import { SqliteReceiptStore } from '../adapters/sqlite-receipt-store';
import { statusWebhookJson, type RawStatus } from '../testing/status-webhook';
import type { MediaVault, MediaVaultOutcome } from './media-vault';
import type { PreferenceAnnouncement } from './customer-preferences';
import { createReceiptService, type InboundAnnouncement, type ReceiptService, type ResolvedStatus } from './receipt-service';
import { RetryLaterError } from './retry-later-error';
import { SERVICE_WINDOW_MS } from './service-window';
import { parseWebhookPayload } from './webhook-payload';
import { findSigningSecret } from './webhook-signature';
import { createWebhookIntake } from './webhook-intake';
import { MediaDownloadInterruptedError, type MediaDownload, type WhatsAppCloudApi } from './whatsapp-cloud-api';

// Pure domain tests: real SQLite stores; the publishers, the Cloud API and media-store are fakes of receipt's own ports.

const FIXTURE_WABA = '104873201958617';
const FIXTURE_NUMBER = '109382746510293';
const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'a', wabaId: '900', appSecret: 's1', phoneNumberIds: ['200'] },
    { id: 'globex', homeRegion: 'us', apiKey: 'g', wabaId: '901', appSecret: 's2', phoneNumberIds: ['201'] },
    {
      id: 'lena-shop',
      homeRegion: 'eu',
      apiKey: 'l',
      wabaId: FIXTURE_WABA,
      appSecret: 's3',
      phoneNumberIds: [FIXTURE_NUMBER],
      optOut: { stopKeywords: ['STOP', 'Abmelden'], quickReplyPayloads: ['STOP_PROMOTIONS'] },
    },
    { id: 'initrode', homeRegion: 'eu', apiKey: 'i', wabaId: '903', appSecret: 's1', phoneNumberIds: ['203'] },
  ]),
);

/** A webhook body in Meta's shape, as bytes. */
function webhook(phoneNumberId: string, statuses: RawStatus[], wabaId = '900'): Uint8Array {
  return Buffer.from(statusWebhookJson(phoneNumberId, statuses, wabaId));
}

function fixture(name: Parameters<typeof loadWebhookFixture>[0], edit?: (body: FixtureBody) => void): Uint8Array {
  const body = loadWebhookFixture(name) as FixtureBody;
  edit?.(body);
  return Buffer.from(JSON.stringify(body));
}
type FixtureBody = { entry: { id: string; changes: { value: { messages: Record<string, unknown>[] } }[] }[] };

/** The Cloud API as a fake: answers per media id, counting downloads. */
class FakeCloudApi implements WhatsAppCloudApi {
  readonly answers = new Map<string, MediaDownload>();
  downloads: string[] = [];
  async downloadMedia(request: { mediaId: string }): Promise<MediaDownload> {
    this.downloads.push(request.mediaId);
    return this.answers.get(request.mediaId) ?? { kind: 'error', httpStatus: 400, code: 100, title: 'Unsupported get request' };
  }
  async markRead(): Promise<{ kind: 'ok' }> {
    return { kind: 'ok' };
  }
}

/** A download that streams `bytes` in two pieces, then (with `cutOffAfterFirst`) fails as a lost connection. */
function downloaded(bytes: Uint8Array, mimeType: string, cutOffAfterFirst = false): MediaDownload {
  async function* content(): AsyncGenerator<Uint8Array> {
    const half = Math.ceil(bytes.length / 2);
    yield bytes.subarray(0, half);
    if (cutOffAfterFirst) throw new MediaDownloadInterruptedError('cut-off', 'connection failed: terminated');
    yield bytes.subarray(half);
  }
  return { kind: 'downloaded', content: content(), sizeBytes: bytes.length, mimeType };
}

/** media-store as a fake: keeps blobs in memory, read from the stream; `next` overrides the next answers. */
class FakeVault implements MediaVault {
  readonly blobs: { tenantId: string; content: Uint8Array; mimeType: string; filename?: string }[] = [];
  next: MediaVaultOutcome[] = [];
  async put(
    tenantId: string,
    media: { content: AsyncIterable<Uint8Array>; sizeBytes: number; mimeType: string; filename?: string },
  ): Promise<MediaVaultOutcome> {
    const forced = this.next.shift();
    if (forced) return forced;
    const chunks: Uint8Array[] = [];
    for await (const chunk of media.content) chunks.push(chunk);
    const content = Buffer.concat(chunks);
    this.blobs.push({ tenantId, content, mimeType: media.mimeType, ...(media.filename ? { filename: media.filename } : {}) });
    return { kind: 'stored', mediaId: `med_${this.blobs.length}`, sha256: 'f'.repeat(64), sizeBytes: content.length };
  }
}

let dir: ReturnType<typeof createTempDir>;
let store: SqliteReceiptStore;
let inboundStore: SqliteInboundStore;
let published: ResolvedStatus[];
let announced: InboundAnnouncement[];
let preferences: PreferenceAnnouncement[];
let failPublish: (() => boolean) | undefined;
let cloudApi: FakeCloudApi;
let vault: FakeVault;
let service: ReceiptService;
const now = new Date(1_795_440_000_000);

function newService(): ReceiptService {
  return createReceiptService({
    store,
    inboundStore,
    publisher: {
      publishAll: async (statuses) =>
        Promise.allSettled(
          statuses.map(async ({ status }) => {
            if (failPublish?.()) throw new Error('NATS unavailable');
            published.push(status);
          }),
        ),
    },
    inboundPublisher: {
      publish: async (announcement) => {
        if (failPublish?.()) throw new Error('NATS unavailable');
        announced.push(announcement);
      },
    },
    preferencePublisher: {
      publish: async (announcement) => {
        if (failPublish?.()) throw new Error('NATS unavailable');
        preferences.push(announcement);
      },
    },
    cloudApi,
    vault,
    tenants,
    region: 'eu',
    clock: { now: () => now },
  });
}

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteReceiptStore(path.join(dir.path, 'receipt.sqlite'));
  inboundStore = new SqliteInboundStore(path.join(dir.path, 'receipt-inbound.sqlite'));
  published = [];
  announced = [];
  preferences = [];
  failPublish = undefined;
  cloudApi = new FakeCloudApi();
  vault = new FakeVault();
  service = newService();
});
afterEach(async () => {
  await store.close();
  await inboundStore.close();
  dir.remove();
});

describe('statuses', () => {
  test('parses Meta status payloads, including failed with errors[], and skips what it does not know', () => {
    const parsed = parseWebhookPayload(
      JSON.parse(
        Buffer.from(
          webhook('200', [
            { id: 'wamid.1', status: 'delivered', timestamp: '1700000001' },
            { id: 'wamid.2', status: 'failed', timestamp: '1700000002', errors: [{ code: 131026, title: 'Message undeliverable' }] },
            { id: 'wamid.3', status: 'deleted', timestamp: '1700000003' },
          ]),
        ).toString(),
      ),
    );
    assert.deepEqual(parsed.statuses, [
      {
        phoneNumberId: '200',
        wabaId: '900',
        waMessageId: 'wamid.1',
        recipientId: '4915112345678',
        status: 'DELIVERED',
        occurredAt: new Date(1_700_000_001_000),
      },
      {
        phoneNumberId: '200',
        wabaId: '900',
        waMessageId: 'wamid.2',
        recipientId: '4915112345678',
        status: 'FAILED',
        occurredAt: new Date(1_700_000_002_000),
        errorCode: 131026,
        errorTitle: 'Message undeliverable',
        errors: [{ code: 131026, title: 'Message undeliverable' }],
      },
    ]);
    assert.equal(parsed.skipped.length, 1);
    assert.deepEqual(parseWebhookPayload({ object: 'page' }).statuses, []);
    assert.deepEqual(parseWebhookPayload(null).skipped, ['not a whatsapp_business_account payload']);
  });

  test('finds the signing secret with a timing-safe comparison', () => {
    const body = Buffer.from('{"a":1}');
    const signature = `sha256=${createHmac('sha256', 's2').update(body).digest('hex')}`;
    assert.equal(findSigningSecret(body, signature, ['s1', 's2']), 1);
    assert.equal(findSigningSecret(Buffer.from('{"a":2}'), signature, ['s1', 's2']), -1, 'tampered body');
    assert.equal(findSigningSecret(body, undefined, ['s1']), -1);
    assert.equal(findSigningSecret(body, 'sha256=abc', ['s1']), -1);
  });

  test('statuses for known wamids are published with a stable event id and the recipient; repeats have the same id', async () => {
    await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.1', messageId: 'msg_1', recipient: '+4915199999999' });
    const body = webhook('200', [{ id: 'wamid.1', status: 'delivered', timestamp: '1700000001' }]);
    await service.processWebhook(body);
    await service.processWebhook(body);
    assert.deepEqual(
      published.map((p) => [p.eventId, p.messageId, p.status.status, p.recipient]),
      [
        ['wa:wamid.1:delivered', 'msg_1', 'DELIVERED', '+4915199999999'],
        ['wa:wamid.1:delivered', 'msg_1', 'DELIVERED', '+4915199999999'],
      ],
    );
  });

  test("without a recipient from the SENT event, Meta's recipient_id is used in E.164 form", async () => {
    await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.1', messageId: 'msg_1' });
    await service.processWebhook(webhook('200', [{ id: 'wamid.1', status: 'read', timestamp: '1700000001' }]));
    assert.equal(published[0].recipient, '+4915112345678');
  });

  test('a batch keeps every status with its own Meta timestamp, whatever order it arrives in', async () => {
    await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.1', messageId: 'msg_1' });
    await service.processWebhook(
      webhook('200', [
        { id: 'wamid.1', status: 'read', timestamp: '1700000009' },
        { id: 'wamid.1', status: 'delivered', timestamp: '1700000005' },
        { id: 'wamid.1', status: 'sent', timestamp: '1700000001' },
      ]),
    );
    assert.deepEqual(
      published.map((p) => [p.eventId, p.status.occurredAt.getTime()]),
      [
        ['wa:wamid.1:read', 1_700_000_009_000],
        ['wa:wamid.1:delivered', 1_700_000_005_000],
        ['wa:wamid.1:sent', 1_700_000_001_000],
      ],
    );
  });

  test('a status that raced ahead of its send is held, then released when the wamid arrives', async () => {
    const outcome = await service.processWebhook(webhook('200', [{ id: 'wamid.9', status: 'read', timestamp: '1700000009' }]));
    assert.deepEqual([outcome.published, outcome.held], [0, 1]);
    assert.equal(published.length, 0);
    assert.equal(
      await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.9', messageId: 'msg_9', recipient: '+4915100000009' }),
      1,
    );
    assert.deepEqual(
      published.map((p) => [p.messageId, p.status.status, p.status.occurredAt.getTime(), p.recipient]),
      [['msg_9', 'READ', 1_700_000_009_000, '+4915100000009']],
    );
    assert.equal(await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.9', messageId: 'msg_9' }), 0, 'released once');
  });

  test("a status for a wamid never reported resolves through Waygate's message id in biz_opaque_callback_data", async () => {
    const messageId = 'msg_0123abc';
    const outcome = await service.processWebhook(
      webhook('200', [
        { id: 'wamid.lost', status: 'sent', timestamp: '1700000001', biz_opaque_callback_data: `waygate:${messageId}` },
        { id: 'wamid.other', status: 'sent', timestamp: '1700000001', biz_opaque_callback_data: 'order-42' },
      ]),
    );
    assert.deepEqual([outcome.published, outcome.held], [1, 1], 'only waygate:<message id> resolves');
    assert.deepEqual(
      published.map((p) => [p.messageId, p.status.status, p.recipient]),
      [[messageId, 'SENT', '+4915112345678']],
    );
    assert.equal((await store.findSentMessage('acme', 'wamid.lost'))?.messageId, messageId, 'the wamid is learned');
  });

  test('a crash between hold and release loses nothing: the held status survives and is released on the retry', async () => {
    await service.processWebhook(webhook('200', [{ id: 'wamid.7', status: 'delivered', timestamp: '1700000007' }]));
    failPublish = () => true;
    await assert.rejects(service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.7', messageId: 'msg_7' }), /NATS unavailable/);
    assert.equal((await store.listHeldStatuses('acme', 'wamid.7')).length, 1, 'still held after the failed release');

    // A new process on the same files, as after a crash; delivery-retry's SENT event is redelivered.
    failPublish = undefined;
    service = newService();
    assert.equal(await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.7', messageId: 'msg_7' }), 1);
    assert.deepEqual(
      published.map((p) => p.eventId),
      ['wa:wamid.7:delivered'],
    );
    assert.deepEqual(await store.listHeldStatuses('acme', 'wamid.7'), []);
  });

  test('statuses for numbers homed in another region, unknown, or outside the entry’s WABA are ignored and not stored', async () => {
    const outcome = await service.processWebhook(webhook('201', [{ id: 'wamid.us', status: 'delivered', timestamp: '1700000001' }], '901'));
    assert.deepEqual([outcome.ignored, outcome.held], [1, 0]);
    assert.deepEqual(await store.listHeldStatuses('globex', 'wamid.us'), []);
    assert.equal((await service.processWebhook(webhook('999', [{ id: 'wamid.x', status: 'sent', timestamp: '1' }]))).ignored, 1);
    // initrode shares acme's app secret, so acme could sign this: a number of initrode inside acme's WABA entry.
    const forged = await service.processWebhook(webhook('203', [{ id: 'wamid.i', status: 'read', timestamp: '1' }], '900'));
    assert.deepEqual([forged.ignored, forged.held], [1, 0]);
    assert.deepEqual(await store.listHeldStatuses('initrode', 'wamid.i'), []);
  });
});

describe('inbound messages', () => {
  const IMAGE_MEDIA_ID = '1482937561029384';
  const IMAGE_WAMID = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDRCMjJCNEIzMkM3NDg0NDRENzE4AA==';
  const jpeg = Buffer.from('not really a jpeg');

  test('a text is recorded per tenant and customer, opens the window and is announced as wa:in:<wamid>', async () => {
    const outcome = await service.processWebhook(fixture('inbound-text'));
    assert.deepEqual([outcome.inboundMessages, outcome.inboundRecorded], [1, 1]);
    const wamid = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA==';
    const record = await inboundStore.findInboundMessage('lena-shop', wamid);
    assert.deepEqual(record, {
      tenantId: 'lena-shop',
      phoneNumberId: FIXTURE_NUMBER,
      customer: '+4915112345678',
      waMessageId: wamid,
      occurredAt: new Date(1_795_432_000_000),
      type: 'text',
      content: { kind: 'text', body: 'Hallo! Is my order on its way?' },
      profileName: 'Lena Vogel',
      receivedAt: now,
    });
    assert.deepEqual(announced, [
      { eventId: `wa:in:${wamid}`, record, serviceWindowClosesAt: new Date(1_795_432_000_000 + SERVICE_WINDOW_MS) },
    ]);
  });

  test('edits, revokes, reactions and Flows replies are each recorded as their own message, naming the message they refer to', async () => {
    const original = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA==';
    const variants: { id: string; type: string; extra: Record<string, unknown>; context?: string }[] = [
      // Meta's coexistence shapes (webhooks reference: messages/edit, messages/revoke).
      {
        id: 'wamid.EDIT',
        type: 'edit',
        extra: { edit: { original_message_id: original, message: { type: 'text', text: { body: 'Is my order on its way now?' } } } },
        context: original,
      },
      { id: 'wamid.REVOKE', type: 'revoke', extra: { revoke: { original_message_id: original } }, context: original },
      { id: 'wamid.REACT', type: 'reaction', extra: { reaction: { message_id: 'wamid.OUT-9', emoji: '👍' } }, context: 'wamid.OUT-9' },
      {
        id: 'wamid.FLOW',
        type: 'interactive',
        extra: {
          context: { from: '15550001111', id: 'wamid.OUT-FLOW' },
          interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"flow_token":"t","slot":"tue"}' } },
        },
        context: 'wamid.OUT-FLOW',
      },
      // An edit without an original id (malformed) is still recorded, referring to nothing.
      { id: 'wamid.EDIT-BARE', type: 'edit', extra: { edit: { message: { type: 'text', text: { body: 'x' } } } } },
    ];
    await service.processWebhook(
      fixture('inbound-text', (parsed) => {
        const messages = parsed.entry[0].changes[0].value.messages;
        const template = messages[0];
        messages.push(
          ...variants.map(({ id, type, extra }) => {
            // eslint-disable-next-line @typescript-eslint/no-unused-vars
            const { text, ...base } = template as Record<string, unknown>;
            return { ...base, id, type, ...extra };
          }),
        );
      }),
    );
    for (const { id, type, context } of variants) {
      const record = await inboundStore.findInboundMessage('lena-shop', id);
      assert.equal(record?.type, type, id);
      assert.equal(record?.contextWaMessageId, context, id);
    }
    const originalRecord = await inboundStore.findInboundMessage('lena-shop', original);
    assert.deepEqual(
      originalRecord?.content,
      { kind: 'text', body: 'Hallo! Is my order on its way?' },
      'the original is never overwritten',
    );
    const flow = await inboundStore.findInboundMessage('lena-shop', 'wamid.FLOW');
    assert.equal(flow?.content.kind, 'unknown');
    assert.match(JSON.stringify(flow?.content), /response_json/, "the Flow's response is kept whole");
  });

  test('media is fetched once, stored for the tenant, and referenced; a duplicate body has one effect', async () => {
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    const body = fixture('inbound-image');
    await service.processWebhook(body);
    await service.processWebhook(body);
    assert.deepEqual(cloudApi.downloads, [IMAGE_MEDIA_ID], 'downloaded once');
    assert.equal(vault.blobs.length, 1);
    assert.deepEqual(
      [vault.blobs[0].tenantId, Buffer.from(vault.blobs[0].content), vault.blobs[0].mimeType],
      ['lena-shop', jpeg, 'image/jpeg'],
    );
    assert.equal(announced.length, 2);
    assert.equal(announced[0].eventId, announced[1].eventId, 'the same event id: downstream keeps one');
    assert.deepEqual(announced[0].record.media, {
      mediaId: 'med_1',
      mimeType: 'image/jpeg',
      sha256: 'f'.repeat(64),
      sizeBytes: jpeg.length,
    });
    assert.equal('url' in announced[0].record.content, false, "Meta's short-lived download URL is not kept");
  });

  test('a transient media failure postpones the whole body; nothing is recorded until it passes', async () => {
    cloudApi.answers.set(IMAGE_MEDIA_ID, { kind: 'no-answer', reason: 'no answer within 10000 ms' });
    await assert.rejects(service.processWebhook(fixture('inbound-image')), RetryLaterError);
    cloudApi.answers.set(IMAGE_MEDIA_ID, { kind: 'error', httpStatus: 503, code: 2, title: 'Service temporarily unavailable' });
    await assert.rejects(service.processWebhook(fixture('inbound-image')), RetryLaterError);
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    vault.next = [{ kind: 'unavailable', reason: 'UNAVAILABLE' }];
    await assert.rejects(service.processWebhook(fixture('inbound-image')), /media-store: UNAVAILABLE/);
    assert.equal(announced.length, 0);
    assert.equal(
      await inboundStore.findServiceWindow({ tenantId: 'lena-shop', phoneNumberId: FIXTURE_NUMBER, customer: '+4915112345678' }),
      undefined,
    );

    await service.processWebhook(fixture('inbound-image'));
    assert.equal(announced[0].record.media?.mediaId, 'med_1');
  });

  test('a part that fails does not keep the other parts of the body from being applied; the failure is thrown after', async () => {
    cloudApi.answers.set(IMAGE_MEDIA_ID, { kind: 'no-answer', reason: 'no answer within 10000 ms' });
    const body = fixture('inbound-image', (edit) => {
      const [image] = edit.entry[0].changes[0].value.messages;
      edit.entry[0].changes[0].value.messages.push({
        ...image,
        id: 'wamid.TEXT-NEXT-TO-IMAGE',
        type: 'text',
        text: { body: 'and a text' },
      });
    });
    await assert.rejects(service.processWebhook(body), RetryLaterError);
    assert.deepEqual(
      announced.map((announcement) => announcement.record.waMessageId),
      ['wamid.TEXT-NEXT-TO-IMAGE'],
    );

    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    await service.processWebhook(body);
    assert.deepEqual(
      announced.map((announcement) => announcement.record.waMessageId),
      ['wamid.TEXT-NEXT-TO-IMAGE', announced[1].record.waMessageId, 'wamid.TEXT-NEXT-TO-IMAGE'],
      'the image once it can be stored; the text again (announcing is idempotent downstream by event id)',
    );
  });

  test('a permanent media failure records the message without media, with a reason', async () => {
    // The fixture's media id is unknown: Meta answers 400 code 100.
    const outcome = await service.processWebhook(fixture('inbound-document'));
    assert.equal(outcome.mediaUnavailable, 1);
    assert.equal(announced[0].record.media, undefined);
    assert.equal(announced[0].record.mediaUnavailable, 'media not found or expired');
    cloudApi.answers.set('too-big', { kind: 'too-large', limitBytes: 5 * 1024 * 1024 });
    await service.processWebhook(
      fixture('inbound-video', (body) => {
        const message = body.entry[0].changes[0].value.messages[0];
        (message.video as Record<string, unknown>).id = 'too-big';
      }),
    );
    assert.equal(announced[1].record.mediaUnavailable, 'larger than 5242880 bytes');
  });

  test('a download cut off midway postpones the body with nothing stored; the next attempt downloads it afresh and stores it once', async () => {
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg', true));
    await assert.rejects(service.processWebhook(fixture('inbound-image'), { number: 1, last: false }), (error) => {
      assert.ok(error instanceof RetryLaterError);
      assert.equal(error.reason, 'download cut off: connection failed: terminated');
      return true;
    });
    assert.equal(vault.blobs.length, 0, 'nothing stored');
    assert.equal(announced.length, 0, 'nothing recorded or announced yet');
    assert.equal(await inboundStore.findInboundMessage('lena-shop', IMAGE_WAMID), undefined);

    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    const outcome = await service.processWebhook(fixture('inbound-image'), { number: 2, last: false });
    assert.equal(outcome.mediaUnavailable, 0);
    assert.deepEqual(cloudApi.downloads, [IMAGE_MEDIA_ID, IMAGE_MEDIA_ID], 'located and downloaded again');
    assert.equal(vault.blobs.length, 1);
    assert.deepEqual(Buffer.from(vault.blobs[0].content), jpeg);
    assert.equal(announced.length, 1);
    assert.equal(announced[0].record.media?.mediaId, 'med_1');
  });

  test('on the last attempt media that still fails is given up: the message is recorded without it, with the reason and its caption', async () => {
    const captioned = fixture('inbound-image', (body) => {
      (body.entry[0].changes[0].value.messages[0].image as Record<string, unknown>).caption = 'the invoice';
    });
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg', true));
    await assert.rejects(service.processWebhook(captioned, { number: 4, last: false }), RetryLaterError);
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg', true));
    const outcome = await service.processWebhook(captioned, { number: 5, last: true });
    assert.equal(outcome.mediaUnavailable, 1);
    assert.equal(outcome.mediaGivenUp, 1);
    assert.equal(vault.blobs.length, 0, 'nothing stored');
    assert.equal(announced.length, 1);
    assert.equal(announced[0].record.media, undefined);
    assert.equal(announced[0].record.mediaUnavailable, 'download cut off: connection failed: terminated (gave up after 5 attempts)');
    assert.equal((announced[0].record.content as { caption?: string }).caption, 'the invoice');
    // Recorded: a later redelivery (a replayed dead letter, Meta's own retry) neither fetches nor announces anew.
    await service.processWebhook(captioned, { number: 1, last: false });
    assert.equal(cloudApi.downloads.length, 2);
    assert.equal(announced.length, 2);
    assert.equal(announced[1].eventId, announced[0].eventId);
    assert.equal(announced[1].record.mediaUnavailable, announced[0].record.mediaUnavailable);
  });

  test('a body retried for a cut-off download re-applies its status and text under the same ids, and stores the media once', async () => {
    await service.recordSentMessage({
      tenantId: 'lena-shop',
      waMessageId: 'wamid.OUT-1',
      messageId: 'msg_out_1',
      recipient: '+4915112345678',
    });
    const text = (loadWebhookFixture('inbound-text') as FixtureBody).entry[0].changes[0].value.messages[0];
    const body = fixture('inbound-image', (parsed) => {
      const value = parsed.entry[0].changes[0].value as { messages: Record<string, unknown>[]; statuses?: unknown[] };
      value.messages.push(text);
      value.statuses = [{ id: 'wamid.OUT-1', status: 'delivered', timestamp: '1795432001', recipient_id: '4915112345678' }];
    });
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg', true));
    await assert.rejects(service.processWebhook(body, { number: 1, last: false }), RetryLaterError);
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    await service.processWebhook(body, { number: 2, last: false });

    assert.deepEqual(
      published.map((status) => status.eventId),
      ['wa:wamid.OUT-1:delivered', 'wa:wamid.OUT-1:delivered'],
      'the same event id twice: JetStream (5 minutes) and the feed (by event id) keep one',
    );
    const ids = announced.map((announcement) => announcement.eventId);
    assert.deepEqual(ids, [`wa:in:${text.id as string}`, `wa:in:${IMAGE_WAMID}`, `wa:in:${text.id as string}`]);
    assert.deepEqual(announced[2].record, announced[0].record, 'the text as first recorded');
    assert.equal(vault.blobs.length, 1, 'the image stored once');
  });

  test('media-store failing mid-upload on the last attempt is given up the same way; other failures still throw', async () => {
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    vault.next = [{ kind: 'unavailable', reason: 'UNAVAILABLE' }];
    await service.processWebhook(fixture('inbound-image'), { number: 15, last: true });
    assert.equal(announced[0].record.mediaUnavailable, 'media-store: UNAVAILABLE (gave up after 15 attempts)');

    // Not a media failure: storage or NATS trouble still makes the body fail (and become a dead letter).
    failPublish = () => true;
    await assert.rejects(service.processWebhook(fixture('inbound-text'), { number: 15, last: true }), /NATS unavailable/);
  });

  test('a failure part-way re-applies idempotently: every message once, media fetched once', async () => {
    cloudApi.answers.set(IMAGE_MEDIA_ID, downloaded(jpeg, 'image/jpeg'));
    const text = (loadWebhookFixture('inbound-text') as FixtureBody).entry[0].changes[0].value.messages[0];
    const body = fixture('inbound-image', (parsed) => parsed.entry[0].changes[0].value.messages.push(text));
    let publishes = 0;
    failPublish = () => ++publishes === 2; // the second announcement fails: the image is done, the text is not
    await assert.rejects(service.processWebhook(body), /NATS unavailable/);
    assert.equal(announced.length, 1);
    failPublish = undefined;
    await service.processWebhook(body);
    assert.deepEqual(
      announced.map((a) => a.record.type),
      ['image', 'image', 'text'],
    );
    assert.deepEqual(cloudApi.downloads, [IMAGE_MEDIA_ID]);
    assert.equal(vault.blobs.length, 1);
  });

  test('the window is extended by a later message and never shortened by an older one', async () => {
    const key = { tenantId: 'lena-shop', phoneNumberId: FIXTURE_NUMBER, customer: '+4915112345678' };
    const at = (seconds: number, id: string) =>
      fixture('inbound-text', (body) => {
        const message = body.entry[0].changes[0].value.messages[0];
        message.timestamp = String(seconds);
        message.id = id;
      });
    await service.processWebhook(at(1_795_432_000, 'wamid.a'));
    await service.processWebhook(at(1_795_435_600, 'wamid.b'));
    await service.processWebhook(at(1_795_430_000, 'wamid.c'));
    assert.deepEqual(await inboundStore.findServiceWindow(key), { lastInboundAt: new Date(1_795_435_600_000) });
    assert.deepEqual(
      announced.map((a) => a.serviceWindowClosesAt?.getTime()),
      [1_795_432_000_000, 1_795_435_600_000, 1_795_435_600_000].map((ms) => ms + SERVICE_WINDOW_MS),
    );
    // A system notice is recorded and announced but opens no window.
    await service.processWebhook(fixture('inbound-system'));
    assert.equal(announced.at(-1)?.serviceWindowClosesAt, undefined);
  });

  test('inbound messages of numbers homed in another region are ignored and not stored', async () => {
    const body = fixture('inbound-text', (parsed) => {
      parsed.entry[0].id = '901';
      (parsed.entry[0].changes[0].value as unknown as { metadata: { phone_number_id: string } }).metadata.phone_number_id = '201';
    });
    assert.equal((await service.processWebhook(body)).ignored, 1);
    assert.deepEqual(announced, []);
    assert.equal(
      await inboundStore.findInboundMessage('globex', 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA=='),
      undefined,
    );
  });
});

describe('marketing preferences', () => {
  const TEXT_WAMID = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA==';
  const withText = (text: string) =>
    fixture('inbound-text', (body) => {
      (body.entry[0].changes[0].value.messages[0] as { text: { body: string } }).text.body = text;
    });

  test("a text that is one of the tenant's stop keywords (any case, surrounding space) is announced as stopped after the message", async () => {
    const outcome = await service.processWebhook(withText('  abmelden \n'));
    assert.equal(outcome.preferences, 1);
    assert.equal(announced.length, 1, 'the message itself is announced too');
    assert.deepEqual(preferences, [
      {
        eventId: `wa:in:${TEXT_WAMID}:opt-out`,
        tenantId: 'lena-shop',
        phoneNumberId: FIXTURE_NUMBER,
        customer: '+4915112345678',
        waId: '4915112345678',
        preference: 'stopped',
        source: 'stop-keyword',
        occurredAt: new Date(1_795_432_000_000),
      },
    ]);
  });

  test('a text that merely contains a keyword, or a keyword of the defaults the tenant replaced, is no opt-out', async () => {
    for (const text of ['Please stop the promotions', 'STOPP']) {
      await service.processWebhook(withText(text));
    }
    assert.deepEqual(preferences, []);
  });

  test("a quick-reply button whose payload is one of the tenant's opt-out payloads is announced as stopped", async () => {
    await service.processWebhook(fixture('inbound-button'));
    assert.deepEqual(
      preferences.map((p) => [p.tenantId, p.customer, p.preference, p.source]),
      [['lena-shop', '+4915112345678', 'stopped', 'quick-reply']],
    );
  });

  const userPreferences = (changes: { value: string; timestamp: string }[], phoneNumberId = FIXTURE_NUMBER, wabaId = FIXTURE_WABA) =>
    Buffer.from(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: wabaId,
            changes: [
              {
                field: 'user_preferences',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550101234', phone_number_id: phoneNumberId },
                  contacts: [{ profile: { name: 'Lena Vogel' }, wa_id: '4915112345678' }],
                  user_preferences: changes.map((change) => ({
                    wa_id: '4915112345678',
                    detail: 'User requested to stop marketing messages',
                    category: 'marketing_messages',
                    ...change,
                  })),
                },
              },
            ],
          },
        ],
      }),
    );

  test("Meta's user_preferences webhook: stop and resume are announced in order; a redelivery repeats the same event ids", async () => {
    const body = userPreferences([
      { value: 'stop', timestamp: '1795432800' },
      { value: 'resume', timestamp: '1795436400' },
    ]);
    await service.processWebhook(body);
    await service.processWebhook(body);
    const once = [
      [`wa:pref:${FIXTURE_NUMBER}:4915112345678:stop:1795432800`, 'stopped', '2026-11-23T11:20:00.000Z'],
      [`wa:pref:${FIXTURE_NUMBER}:4915112345678:resume:1795436400`, 'resumed', '2026-11-23T12:20:00.000Z'],
    ];
    assert.deepEqual(
      preferences.map((p) => [p.eventId, p.preference, p.occurredAt.toISOString()]),
      [...once, ...once],
    );
    assert.ok(preferences.every((p) => p.tenantId === 'lena-shop' && p.customer === '+4915112345678' && p.source === 'user-preferences'));
  });

  test('a user_preferences change for a number of another region is ignored', async () => {
    const outcome = await service.processWebhook(userPreferences([{ value: 'stop', timestamp: '1795432800' }], '201', '901'));
    assert.equal(outcome.ignored, 1);
    assert.deepEqual(preferences, []);
  });
});

describe('webhook intake (signature by owner)', () => {
  const intake = createWebhookIntake(tenants, 'eu');
  const sign = (body: Uint8Array | string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const acme = webhook('200', [{ id: 'wamid.1', status: 'sent', timestamp: '1' }], '900');

  test("a body is verified with its WABA's app secret; another WABA's secret is refused", () => {
    assert.equal(intake(acme, sign(acme, 's1')).kind, 'accepted');
    assert.equal(intake(acme, sign(acme, 's3')).kind, 'unauthenticated', "lena-shop's secret does not sign acme's WABA");
    assert.equal(intake(acme, undefined).kind, 'unauthenticated');
    assert.equal(intake(acme, 'sha256=zz').kind, 'unauthenticated');
  });

  test('entries of WABAs with different secrets cannot all be signed: refused', () => {
    const mixed = JSON.parse(Buffer.from(acme).toString()) as { entry: { id: string }[] };
    mixed.entry.push({ ...mixed.entry[0], id: FIXTURE_WABA });
    const body = JSON.stringify(mixed);
    assert.equal(intake(Buffer.from(body), sign(body, 's1')).kind, 'unauthenticated');
    assert.equal(intake(Buffer.from(body), sign(body, 's3')).kind, 'unauthenticated');
  });

  test('without a configured WABA any app secret of the region is tried, and the body is answered but not queued', () => {
    for (const text of ['{not json', '{"object":"page"}', '{"object":"whatsapp_business_account","entry":[{"id":"555"}]}']) {
      const body = Buffer.from(text);
      assert.equal(intake(body, sign(body, 's3')).kind, 'ignored', text);
      assert.equal(intake(body, sign(body, 's2')).kind, 'unauthenticated', `${text}: s2 belongs to a tenant homed in us`);
    }
  });

  test("a body of another region's WABA is ignored; a mixed one is queued without the other region's entries", () => {
    const us = webhook('201', [{ id: 'wamid.us', status: 'sent', timestamp: '1' }], '901');
    assert.deepEqual(intake(us, sign(us, 's2')), {
      kind: 'ignored',
      reason: 'every WABA of the payload is homed in another region',
      forwards: [],
    });

    const mixed = JSON.parse(Buffer.from(acme).toString()) as { entry: { id: string }[] };
    mixed.entry.push({ ...mixed.entry[0], id: '901' }, { ...mixed.entry[0], id: '903' });
    const body = JSON.stringify(mixed);
    // 901 (us) has secret s2, so nothing verifies a body that carries it together with acme's s1.
    assert.equal(intake(Buffer.from(body), sign(body, 's1')).kind, 'unauthenticated');
    mixed.entry.splice(1, 1, { ...mixed.entry[0], id: '555' });
    const withUnknown = JSON.stringify(mixed);
    const decision = intake(Buffer.from(withUnknown), sign(withUnknown, 's1'));
    assert.equal(decision.kind, 'accepted');
    const queued = JSON.parse(Buffer.from((decision as { body: Uint8Array }).body).toString()) as { entry: { id: string }[] };
    assert.deepEqual(
      queued.entry.map((entry) => entry.id),
      ['900', '903'],
      'the unknown WABA is dropped',
    );
  });
});
