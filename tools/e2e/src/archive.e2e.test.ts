/**
 * End to end, the archive (issue 13): the real processes (nats-server, the WhatsApp simulator, the five services on
 * SQLite) started by the same code as `npm start`; a client built from the public protos only. A scripted
 * conversation runs on the simulator's clock, and everything is asserted through ArchiveService.
 *
 * The clock: the services keep real time (ingress stamps acceptance with its own clock), the simulator keeps its own
 * (WhatsApp's timestamps, whole seconds). The simulator starts 26 hours in the past, so a first customer writes
 * "yesterday" and their window has closed by the time the business answers with a template (a new session). Then the
 * clock jumps to the present and runs at real speed, so one customer's messages and the business's replies are on one
 * time line; before each customer message the test waits until the simulator's clock is past the whole second of the
 * message before it, so the archive's order (by time) is the script's order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Metadata, status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import { createTempDir, waitFor } from '@waygate/testing';
import { freeStackPorts, SERVICES, startLocalStack, untilWindowOpen, type LocalStack } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

/** The customer of the scripted conversation, and the one who wrote yesterday. */
const CUSTOMER = '+4915112340001';
const YESTERDAY_CUSTOMER = '+4915112340002';
const MEDIA_HOST = 'https://media.example.test';
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

const TEXTS = {
  yesterday: 'Hello, I need help with my invoice please',
  first: 'The box was damaged and wet',
  reply: 'Hello! Sorry about that, a new parcel ships today.',
  caption: 'Your new shipping label',
  filename: 'credit-note-2041.pdf',
  interactive: 'Was this answer useful?',
  photo: 'Photo of the broken corner',
  spanish: '¿Dónde está mi pedido? Necesito la factura también',
  russian: 'Спасибо, посылка пришла вовремя',
  chinese: '我的包裹什么时候到达，请告诉我',
  positive: 'Thank you so much, the support was wonderful and very helpful!',
  lastReply: 'Glad to help, the tracking link follows by mail.',
} as const;

/** The tenant's archive settings: a rate card for German utility templates and a scorecard. */
const ARCHIVE_SETTINGS = `    archive:
      rateCard:
        currency: EUR
        rates:
          - { country: DE, category: utility, amountMicros: 50000, effectiveFrom: '2025-07-01' }
      scorecard:
        name: support-basics
        criteria:
          - { name: fast-first-reply, weight: 2, kind: firstReplyWithin, minutes: 15 }
          - { name: no-abandoned-window, weight: 1, kind: noWindowClosedWhileWaiting }
          - { name: sentiment-holds, weight: 1, kind: sentimentNotWorse }
          - { name: greets, weight: 1, kind: keywordsRequired, keywords: [hello], match: any }
          - { name: polite, weight: 1, kind: keywordsForbidden, keywords: [stupid] }
`;

interface Timestamp {
  seconds: string;
  nanos: number;
}
interface WirePricing {
  billable: boolean;
  pricing_model: string;
  type: string;
  category: string;
}
interface WireTranscriptMessage {
  record_id: string;
  message_id: string;
  wa_message_id: string;
  direction: string;
  type: string;
  occurred_at: Timestamp;
  text: string;
  content_json: string;
  media_ids: string[];
  template_name: string;
  template_category: string;
  context_wa_message_id: string;
  statuses: { status: string; occurred_at: Timestamp; pricing: WirePricing | null }[];
  status: string;
  sentiment: { language: string; score: number; label: string } | null;
  session_index: number;
  conversation_id: string;
}
interface WireSentimentSummary {
  start: { language: string; label: string } | null;
  end: { language: string; label: string } | null;
  trend: string;
  scored_messages: number;
}
interface WireConversation {
  conversation_id: string;
  phone_number_id: string;
  customer: string;
  inbound_count: number;
  outbound_count: number;
  has_unanswered: boolean;
  session_count: number;
  sentiment: WireSentimentSummary;
  score?: number;
}
interface WireCost {
  currency: string;
  amount_micros: string;
  billable_messages: number;
  billable_by_category: Record<string, number>;
  unpriced_messages: number;
}
interface WireMetrics {
  conversation: WireConversation;
  first_response_ms?: string;
  response_p50_ms?: string;
  response_p90_ms?: string;
  windows_closed_while_waiting: number;
  read_to_reply_p50_ms?: string;
  inbound_count: number;
  outbound_count: number;
  session_count: number;
  cost: WireCost;
  sentiment: WireSentimentSummary;
  evaluation: { score: number; scorecard: string; criteria: { name: string; passed: boolean; reason: string }[] } | null;
}
interface WireDay {
  date: string;
  conversations: number;
  inbound_messages: number;
  outbound_messages: number;
  first_response_p50_ms?: string;
  first_response_p90_ms?: string;
  windows_closed_while_waiting: number;
  mean_score?: number;
  cost: WireCost;
  positive_messages: number;
  neutral_messages: number;
  negative_messages: number;
}

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let clients: ReturnType<typeof loadPublicClients>;
let messaging: Client;
let archive: Client;
let media: Client;
const logLines: { process: string; line: string }[] = [];
/** When the simulator's clock starts: 26 hours before the test began. */
const simulatorStart = new Date(Math.floor((Date.now() - 26 * HOUR_MS) / 1000) * 1000);

before(async () => {
  dir = createTempDir('waygate-e2e-archive-');
  const ports = await freeStackPorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    serviceEnv: { WAYGATE_LOG_LEVEL: 'info' },
    simulatorArgs: ['--start-time', simulatorStart.toISOString()],
    // The EU demo tenant (the first in the file) gets the archive settings.
    tenantsYaml: (generated) => {
      const usTenant = generated.indexOf('\n  - id: demo-us');
      assert.ok(usTenant > 0, 'the generated tenants file lists demo-us after demo');
      return `${generated.slice(0, usTenant + 1)}${ARCHIVE_SETTINGS}${generated.slice(usTenant + 1)}`;
    },
    onLine: (process, line) => logLines.push({ process, line }),
  });
  clients = loadPublicClients();
  messaging = clients.messaging(`127.0.0.1:${ports.grpc.ingress}`);
  archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
  media = clients.media(`127.0.0.1:${ports.grpc['media-store']}`);
});

after(async () => {
  messaging?.close();
  archive?.close();
  media?.close();
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

const ms = (timestamp: Timestamp | null | undefined): number =>
  timestamp ? Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6) : Number.NaN;
const wire = (epochMs: number): Timestamp => ({ seconds: String(Math.floor(epochMs / 1000)), nanos: (epochMs % 1000) * 1e6 });

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

const simulatorNow = async () => (await simulator<{ nowMs: number }>('GET', 'clock')).nowMs;

/** The customer writes (the simulator posts Meta's webhook to receipt); resolves to the message's wamid. */
async function customerWrites(customer: string, message: Record<string, unknown>): Promise<string> {
  const written = await simulator<{ messageId: string }>('POST', 'inbound', { message: { from: customer.slice(1), ...message } });
  return written.messageId;
}

interface WebhookBody {
  entry: {
    changes: {
      value: { messages?: { id: string; timestamp: string }[]; statuses?: { id: string; status: string; timestamp: string }[] };
    }[];
  }[];
}

/** The webhook bodies receipt accepted, as the simulator sent them. */
async function acceptedWebhooks(): Promise<WebhookBody[]> {
  const { deliveries } = await simulator<{ deliveries: { body: string; responseStatus?: number }[] }>('GET', 'webhooks');
  return deliveries.filter((d) => d.responseStatus === 200).map((d) => JSON.parse(d.body) as WebhookBody);
}

/** WhatsApp's timestamp of an inbound message, in ms, as the simulator's webhook (once accepted) reported it to receipt. */
async function webhookTimestampMs(wamid: string): Promise<number> {
  const find = async (): Promise<number | undefined> => {
    for (const body of await acceptedWebhooks())
      for (const entry of body.entry)
        for (const change of entry.changes) {
          const found = change.value.messages?.find((message) => message.id === wamid);
          if (found) return Number(found.timestamp) * 1000;
        }
    return undefined;
  };
  return (await waitFor(find, { timeoutMs: 10_000, intervalMs: 50, what: `the webhook of ${wamid} accepted by receipt` })) as number;
}

/** WhatsApp's `read` timestamps, in ms, of the messages with these wamids, as the simulator's status webhooks reported them. */
async function webhookReadTimesMs(wamids: readonly string[]): Promise<number[]> {
  const reads = (await acceptedWebhooks()).flatMap((body) =>
    body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? [])),
  );
  return wamids.map((wamid) => {
    const read = reads.find((status) => status.id === wamid && status.status === 'read');
    assert.ok(read, `a read webhook for ${wamid}`);
    return Number(read.timestamp) * 1000;
  });
}

/** Waits until the simulator's clock is in a later whole second than `epochMs` (WhatsApp's timestamps are seconds). */
async function pastTheSecondOf(epochMs: number): Promise<void> {
  const boundary = (Math.floor(epochMs / 1000) + 1) * 1000;
  await waitFor(simulatorNow, { until: (now) => now >= boundary, timeoutMs: 5_000, intervalMs: 50, what: 'the next whole second' });
}

async function hostMedia(name: string, mimeType: string, bytes: Buffer): Promise<string> {
  const link = `${MEDIA_HOST}/${name}`;
  await simulator('PUT', 'hosted-media', { link, mimeType, base64: bytes.toString('base64') });
  return link;
}

function archiveCall<T>(method: string, request: unknown): Promise<T> {
  return callUnary<T>(archive, method, request, stack.credentials.apiKey);
}

async function send(key: string, to: string, fields: Record<string, unknown>): Promise<{ id: string; acceptedAt: number }> {
  const response = await untilWindowOpen(() =>
    callUnary<{ message_id: string; status: string }>(
      messaging,
      'SendMessage',
      { to, idempotency_key: key, ...fields },
      stack.credentials.apiKey,
    ),
  );
  assert.equal(response.status, 'MESSAGE_STATUS_ACCEPTED', key);
  const message = await callUnary<{ accepted_at: Timestamp }>(
    messaging,
    'GetMessage',
    { message_id: response.message_id },
    stack.credentials.apiKey,
  );
  return { id: response.message_id, acceptedAt: ms(message.accepted_at) };
}

/** The simulator's demo utility template `order_update` (named parameters). */
function orderUpdate(firstName: string, orderId: string): Record<string, unknown> {
  return {
    template: {
      name: 'order_update',
      language: 'en_US',
      components: [
        {
          type: 'TEMPLATE_COMPONENT_TYPE_BODY',
          parameters: [
            { parameter_name: 'first_name', text: firstName },
            { parameter_name: 'order_id', text: orderId },
          ],
        },
      ],
    },
  };
}

function waitForStatus(messageId: string, status: string): Promise<{ wa_message_id: string }> {
  return waitFor(
    () =>
      callUnary<{ status: string; wa_message_id: string }>(messaging, 'GetMessage', { message_id: messageId }, stack.credentials.apiKey),
    { until: (message) => message.status === status, timeoutMs: 30_000, intervalMs: 100, what: `${messageId} to reach ${status}` },
  );
}

/** Runs ExportConversations and reassembles its files (each file's chunks come one after another). */
function exportBundle(request: Record<string, unknown>): Promise<Map<string, Buffer>> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${stack.credentials.apiKey}`);
  const call = (archive as unknown as { ExportConversations: (r: unknown, m: Metadata) => NodeJS.ReadableStream }).ExportConversations(
    request,
    metadata,
  );
  const chunks = new Map<string, Buffer[]>();
  const closed = new Set<string>();
  return new Promise((resolve, reject) => {
    call.on('data', (chunk: { path: string; data: Buffer; last_chunk: boolean }) => {
      if (closed.has(chunk.path)) reject(new Error(`${chunk.path} continues after its last chunk`));
      chunks.set(chunk.path, [...(chunks.get(chunk.path) ?? []), Buffer.from(chunk.data)]);
      if (chunk.last_chunk) closed.add(chunk.path);
    });
    call.on('error', reject);
    call.on('end', () => {
      assert.deepEqual(
        [...chunks.keys()].filter((path) => !closed.has(path)),
        [],
        'every file ended with its last chunk',
      );
      assert.equal([...chunks.keys()].at(-1), 'manifest.json', 'the manifest comes last');
      resolve(new Map([...chunks].map(([path, parts]) => [path, Buffer.concat(parts)])));
    });
  });
}

async function conversationsOf(filter: Record<string, unknown>): Promise<WireConversation[]> {
  const listed = await archiveCall<{ conversations: WireConversation[]; next_page_token: string }>('ListConversations', {
    page_size: 200,
    ...filter,
  });
  assert.equal(listed.next_page_token, '', 'one page');
  return listed.conversations;
}

async function transcriptOf(conversationId: string): Promise<WireTranscriptMessage[]> {
  const page = await archiveCall<{ messages: WireTranscriptMessage[]; next_page_token: string }>('GetTranscript', {
    conversation_id: conversationId,
    page_size: 1000,
  });
  assert.equal(page.next_page_token, '');
  return page.messages;
}

/** Waits until the archive's transcript of the customer's conversation holds `count` messages. */
async function transcriptWith(customer: string, count: number, what: string): Promise<WireTranscriptMessage[]> {
  return waitFor(
    async () => {
      const [conversation] = await conversationsOf({ customer });
      return conversation ? transcriptOf(conversation.conversation_id) : [];
    },
    { until: (messages) => messages.length >= count, timeoutMs: 30_000, intervalMs: 100, what },
  );
}

test('a scripted conversation on the simulator clock, archived and analysed, read back through ArchiveService only', async () => {
  // --- Yesterday (simulated): a customer writes, and nobody answers before their window closes.
  assert.ok((await simulatorNow()) < Date.now() - 25 * HOUR_MS, 'the simulator starts in the past');
  const yesterdayWamid = await customerWrites(YESTERDAY_CUSTOMER, { type: 'text', text: TEXTS.yesterday });
  const yesterdayAt = await webhookTimestampMs(yesterdayWamid);
  await transcriptWith(YESTERDAY_CUSTOMER, 1, "yesterday's customer message archived");

  // --- The clock jumps to the present and runs at real speed from there.
  const behind = Date.now() - (await simulatorNow());
  await simulator('POST', 'clock/advance', { ms: behind });
  const scriptStart = await simulatorNow();
  assert.ok(Math.abs(scriptStart - Date.now()) < 1_000, 'the simulated clock is in the present');

  // --- Today: the customer writes, the business replies with a text, an image and a document by link and buttons.
  const firstWamid = await customerWrites(CUSTOMER, { type: 'text', text: TEXTS.first, profileName: 'Ada' });
  const png = await hostMedia('label.png', 'image/png', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(512, 7)]));
  const pdf = await hostMedia('credit-note.pdf', 'application/pdf', Buffer.from('%PDF-1.4\n%%EOF\n'));
  const reply = await send('archive-reply', CUSTOMER, { text: { body: TEXTS.reply } });
  const image = await send('archive-image', CUSTOMER, { image: { link: png, caption: TEXTS.caption } });
  const document = await send('archive-document', CUSTOMER, { document: { link: pdf, filename: TEXTS.filename } });
  const buttons = await send('archive-buttons', CUSTOMER, {
    interactive: {
      body: TEXTS.interactive,
      buttons: {
        buttons: [
          { id: 'yes', title: 'Yes' },
          { id: 'no', title: 'No' },
        ],
      },
    },
  });
  const business = [reply, image, document, buttons];
  // The simulated customer is online and reads: each reaches READ.
  const replyWamid = (await waitForStatus(reply.id, 'MESSAGE_STATUS_READ')).wa_message_id;
  for (const message of business.slice(1)) await waitForStatus(message.id, 'MESSAGE_STATUS_READ');

  // --- The customer reacts, sends a photo, and writes again in other languages; each in a later second.
  let last = Math.max(...business.map((message) => message.acceptedAt));
  // A real 1x1 PNG: media-store checks that the bytes are what the MIME type says.
  const photo = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const customerMessages: [string, Record<string, unknown>][] = [
    ['reaction', { type: 'reaction', messageId: replyWamid, emoji: '👍' }],
    ['image', { type: 'image', media: { base64: photo.toString('base64'), mimeType: 'image/png' }, caption: TEXTS.photo }],
    ['spanish', { type: 'text', text: TEXTS.spanish }],
    ['russian', { type: 'text', text: TEXTS.russian }],
    ['chinese', { type: 'text', text: TEXTS.chinese }],
    ['positive', { type: 'text', text: TEXTS.positive }],
  ];
  const laterWamids = new Map<string, string>();
  for (const [name, message] of customerMessages) {
    await pastTheSecondOf(last);
    const wamid = await customerWrites(CUSTOMER, message);
    laterWamids.set(name, wamid);
    last = await webhookTimestampMs(wamid);
  }
  await transcriptWith(CUSTOMER, 1 + business.length + customerMessages.length, 'the customer messages archived');

  // The customer's last message is unanswered until the business replies.
  const unanswered = await conversationsOf({ has_unanswered: true });
  assert.ok(unanswered.some((c) => c.customer === CUSTOMER) && unanswered.some((c) => c.customer === YESTERDAY_CUSTOMER));
  await pastTheSecondOf(last);
  const lastReply = await send('archive-last-reply', CUSTOMER, { text: { body: TEXTS.lastReply } });
  await waitForStatus(lastReply.id, 'MESSAGE_STATUS_READ');
  // A utility template inside the open window: it continues the session, and Meta prices it free.
  const inWindowTemplate = await send('archive-template-in-window', CUSTOMER, orderUpdate('Ada', 'A-1042'));
  await waitForStatus(inWindowTemplate.id, 'MESSAGE_STATUS_READ');

  // --- A template to yesterday's customer, whose window has closed: a business-initiated session.
  const template = await send('archive-template', YESTERDAY_CUSTOMER, orderUpdate('Grace', 'B-2041'));
  await waitForStatus(template.id, 'MESSAGE_STATUS_READ');

  // ================= ListConversations: by customer, unanswered, sentiment label, time range =================
  const transcript = await waitFor(() => transcriptWith(CUSTOMER, 13, 'the whole conversation archived'), {
    until: (messages) => messages.at(-1)?.status === 'MESSAGE_STATUS_READ',
    timeoutMs: 30_000,
    what: 'the in-window template READ in the archive',
  });
  const yesterdayTranscript = await waitFor(() => transcriptWith(YESTERDAY_CUSTOMER, 2, 'the template archived'), {
    until: (messages) => messages.at(-1)?.status === 'MESSAGE_STATUS_READ',
    timeoutMs: 30_000,
    what: 'the template READ in the archive',
  });
  const [conversation] = await conversationsOf({ customer: CUSTOMER });
  assert.ok(conversation);
  const [yesterdayConversation] = await conversationsOf({ customer: YESTERDAY_CUSTOMER });
  assert.ok(yesterdayConversation);
  const ids = (list: WireConversation[]) => list.map((c) => c.conversation_id).sort();
  assert.deepEqual(
    [conversation.customer, conversation.phone_number_id, conversation.inbound_count, conversation.outbound_count],
    [CUSTOMER, stack.credentials.phoneNumberId, 1 + customerMessages.length, business.length + 2],
  );
  assert.deepEqual(ids(await conversationsOf({ has_unanswered: true })), [], 'every customer message is answered now');
  assert.deepEqual(ids(await conversationsOf({ sentiment: 'SENTIMENT_LABEL_POSITIVE' })), ids([conversation, yesterdayConversation]));
  assert.deepEqual(ids(await conversationsOf({ sentiment: 'SENTIMENT_LABEL_NEGATIVE' })), []);
  assert.deepEqual(
    ids(await conversationsOf({ from: wire(simulatorStart.getTime()), to: wire(simulatorStart.getTime() + HOUR_MS) })),
    ids([yesterdayConversation]),
    'yesterday only',
  );
  assert.deepEqual(ids(await conversationsOf({ from: wire(scriptStart) })), ids([conversation, yesterdayConversation]));
  assert.deepEqual(ids(await conversationsOf({ from: wire(scriptStart), customer: CUSTOMER })), ids([conversation]));
  assert.deepEqual(
    ids(await conversationsOf({ phone_number_id: stack.credentials.phoneNumberId })),
    ids([conversation, yesterdayConversation]),
  );
  assert.deepEqual(ids(await conversationsOf({ phone_number_id: 'another-number' })), []);
  // Paged one at a time: most recently active first, the token carries on where the page ended.
  const firstPage = await archiveCall<{ conversations: WireConversation[]; next_page_token: string }>('ListConversations', {
    page_size: 1,
  });
  const secondPage = await archiveCall<{ conversations: WireConversation[]; next_page_token: string }>('ListConversations', {
    page_size: 1,
    page_token: firstPage.next_page_token,
  });
  assert.deepEqual(
    [...firstPage.conversations, ...secondPage.conversations].map((c) => c.customer),
    [YESTERDAY_CUSTOMER, CUSTOMER],
    "the template to yesterday's customer was the last message",
  );
  assert.equal(secondPage.next_page_token, '');
  await assert.rejects(archiveCall('ListConversations', { customer: 'not-a-number', page_size: 500 }), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error)
        .map((v) => v.field)
        .sort(),
      ['customer', 'page_size'],
    );
    return true;
  });

  // ================= GetTranscript: every message both ways, in order, statuses, pricing, media, sessions =================
  const laterIds = customerMessages.map(([name]) => laterWamids.get(name));
  assert.deepEqual(
    transcript.map((m) => [m.direction, m.type, m.message_id]),
    [
      ['DIRECTION_INBOUND', 'text', firstWamid],
      ['DIRECTION_OUTBOUND', 'text', reply.id],
      ['DIRECTION_OUTBOUND', 'image', image.id],
      ['DIRECTION_OUTBOUND', 'document', document.id],
      ['DIRECTION_OUTBOUND', 'interactive', buttons.id],
      ['DIRECTION_INBOUND', 'reaction', laterIds[0]],
      ['DIRECTION_INBOUND', 'image', laterIds[1]],
      ['DIRECTION_INBOUND', 'text', laterIds[2]],
      ['DIRECTION_INBOUND', 'text', laterIds[3]],
      ['DIRECTION_INBOUND', 'text', laterIds[4]],
      ['DIRECTION_INBOUND', 'text', laterIds[5]],
      ['DIRECTION_OUTBOUND', 'text', lastReply.id],
      ['DIRECTION_OUTBOUND', 'template', inWindowTemplate.id],
    ],
  );
  const times = transcript.map((m) => ms(m.occurred_at));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'oldest first',
  );
  assert.deepEqual(
    transcript.slice(0, -1).map((m) => m.text),
    [
      TEXTS.first,
      TEXTS.reply,
      TEXTS.caption,
      TEXTS.filename,
      `${TEXTS.interactive}\nYes\nNo`,
      '👍',
      TEXTS.photo,
      TEXTS.spanish,
      TEXTS.russian,
      TEXTS.chinese,
      TEXTS.positive,
      TEXTS.lastReply,
    ],
  );
  assert.equal(transcript[5]?.context_wa_message_id, replyWamid, 'the reaction names the reply');
  assert.match(transcript[5]?.content_json ?? '', /👍/);
  assert.ok(transcript.every((m) => m.session_index === 0 && m.conversation_id === conversation.conversation_id));
  for (const message of transcript.filter((m) => m.direction === 'DIRECTION_OUTBOUND')) {
    // SENT twice: delivery-retry's (WhatsApp accepted the send) and receipt's (the status webhook).
    const statuses = [...new Set(message.statuses.map((s) => s.status))];
    assert.deepEqual(statuses, ['MESSAGE_STATUS_SENT', 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ'], message.type);
    assert.ok(statuses.includes('MESSAGE_STATUS_READ') && message.status === 'MESSAGE_STATUS_READ', message.type);
    assert.equal(message.wa_message_id.startsWith('wamid.'), true);
    // Priced as Meta does in an open window: a free service message, or a free utility template.
    const priced = message.statuses.filter((s) => s.pricing);
    assert.ok(priced.length > 0, `${message.type} has pricing`);
    const category = message.type === 'template' ? 'utility' : 'service';
    for (const status of priced)
      assert.deepEqual(status.pricing, { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category }, message.type);
  }
  // Paged and by time range, the same messages.
  const pages: WireTranscriptMessage[] = [];
  let pageToken = '';
  do {
    const page = await archiveCall<{ messages: WireTranscriptMessage[]; next_page_token: string; conversation: WireConversation }>(
      'GetTranscript',
      { conversation_id: conversation.conversation_id, page_size: 5, page_token: pageToken },
    );
    assert.equal(page.conversation.conversation_id, conversation.conversation_id);
    pages.push(...page.messages);
    pageToken = page.next_page_token;
  } while (pageToken !== '');
  assert.deepEqual(pages, transcript);
  const ranged = await archiveCall<{ messages: WireTranscriptMessage[] }>('GetTranscript', {
    conversation_id: conversation.conversation_id,
    from: transcript[1]?.occurred_at,
    to: transcript[5]?.occurred_at,
  });
  assert.deepEqual(ranged.messages, transcript.slice(1, 5), 'from inclusive, to exclusive');
  // A well-formed id of no conversation is NOT_FOUND; a malformed one INVALID_ARGUMENT naming the field.
  await assert.rejects(archiveCall('GetTranscript', { conversation_id: `cv_${'A'.repeat(26)}` }), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.NOT_FOUND);
    return true;
  });
  await assert.rejects(
    archiveCall('GetConversationMetrics', { conversation_id: `${conversation.conversation_id}x` }),
    (error: ServiceError) => {
      assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
      assert.deepEqual(
        badRequestViolations(error).map((v) => v.field),
        ['conversation_id'],
      );
      return true;
    },
  );
  // The customer's photo went to media-store; its id is in the transcript and serves the bytes.
  const [photoId] = transcript[6]?.media_ids ?? [];
  assert.ok(photoId, 'the inbound photo has a media id');
  const stored = await callUnary<{ content: Buffer }>(media, 'GetMedia', { media_id: photoId }, stack.credentials.apiKey);
  assert.deepEqual(Buffer.from(stored.content), photo);
  assert.deepEqual(
    yesterdayTranscript.map((m) => [m.direction, m.type, m.session_index, m.template_name, m.template_category]),
    [
      ['DIRECTION_INBOUND', 'text', 0, '', 'TEMPLATE_CATEGORY_UNSPECIFIED'],
      ['DIRECTION_OUTBOUND', 'template', 1, 'order_update', 'TEMPLATE_CATEGORY_UTILITY'],
    ],
    'a template after the window closed starts a new session',
  );
  assert.equal(ms(yesterdayTranscript[0]?.occurred_at), yesterdayAt);
  assert.deepEqual(yesterdayTranscript[1]?.statuses.find((s) => s.pricing)?.pricing, {
    billable: true,
    pricing_model: 'PMP',
    type: 'regular',
    category: 'utility',
  });

  // ================= GetConversationMetrics: exact first response time, counts, sentiment, scorecard =================
  const firstAt = await webhookTimestampMs(firstWamid);
  assert.equal(ms(transcript[0]?.occurred_at), firstAt, "the archive keeps WhatsApp's timestamp");
  assert.equal(ms(transcript[1]?.occurred_at), reply.acceptedAt, "the archive keeps ingress's acceptance time");
  const metrics = await archiveCall<WireMetrics>('GetConversationMetrics', { conversation_id: conversation.conversation_id });
  const expectedFirstResponse = reply.acceptedAt - firstAt;
  assert.equal(metrics.first_response_ms, String(expectedFirstResponse), 'first response time, exact to the millisecond');
  // Two customer turns (a reaction opens none): the first answered by the reply, the second (from the photo) by the last reply.
  const secondTurn = lastReply.acceptedAt - ms(transcript[6]?.occurred_at);
  assert.deepEqual(
    [metrics.response_p50_ms, metrics.response_p90_ms],
    [String(Math.min(expectedFirstResponse, secondTurn)), String(Math.max(expectedFirstResponse, secondTurn))],
  );
  // Read-to-reply: from the first READ of the business messages (WhatsApp's status webhooks) to the customer's reaction.
  const firstRead = Math.min(...(await webhookReadTimesMs(transcript.slice(1, 5).map((m) => m.wa_message_id))));
  const reactionAt = await webhookTimestampMs(laterIds[0] as string);
  assert.equal(metrics.read_to_reply_p50_ms, String(reactionAt - firstRead), 'from the first READ to the reaction');
  assert.deepEqual(
    [metrics.inbound_count, metrics.outbound_count, metrics.session_count, metrics.windows_closed_while_waiting],
    [1 + customerMessages.length, business.length + 2, 1, 0],
  );
  assert.deepEqual(metrics.cost, {
    currency: 'EUR',
    amount_micros: '0',
    billable_messages: 0,
    billable_by_category: {},
    unpriced_messages: 0,
  });
  const scored = transcript.filter((m) => m.sentiment && m.sentiment.label !== 'SENTIMENT_LABEL_UNSPECIFIED');
  assert.deepEqual(
    [metrics.sentiment.start?.language, metrics.sentiment.start?.label, metrics.sentiment.end?.language, metrics.sentiment.end?.label],
    ['en', 'SENTIMENT_LABEL_NEGATIVE', 'en', 'SENTIMENT_LABEL_POSITIVE'],
  );
  assert.equal(metrics.sentiment.trend, 'SENTIMENT_TREND_IMPROVING');
  assert.equal(metrics.sentiment.scored_messages, scored.length);
  assert.equal(transcript[9]?.sentiment?.language, 'zh');
  assert.equal(transcript[9]?.sentiment?.label, 'SENTIMENT_LABEL_UNSPECIFIED', 'Chinese is never scored as if it were English');
  assert.deepEqual(metrics.conversation.sentiment, metrics.sentiment);
  assert.equal(metrics.evaluation?.scorecard, 'support-basics');
  assert.deepEqual(
    metrics.evaluation?.criteria.map((c) => [c.name, c.passed]),
    [
      ['fast-first-reply', true],
      ['no-abandoned-window', true],
      ['sentiment-holds', true],
      ['greets', true],
      ['polite', true],
    ],
  );
  assert.equal(metrics.evaluation?.score, 100);
  assert.equal(metrics.conversation.score, 100);
  for (const criterion of metrics.evaluation?.criteria ?? []) assert.ok(criterion.reason.length > 0, criterion.name);

  const yesterdayMetrics = await archiveCall<WireMetrics>('GetConversationMetrics', {
    conversation_id: yesterdayConversation.conversation_id,
  });
  assert.equal(yesterdayMetrics.first_response_ms, undefined, 'never answered');
  assert.deepEqual(
    [
      yesterdayMetrics.session_count,
      yesterdayMetrics.windows_closed_while_waiting,
      yesterdayMetrics.inbound_count,
      yesterdayMetrics.outbound_count,
    ],
    [2, 1, 1, 1],
  );
  assert.deepEqual(yesterdayMetrics.cost, {
    currency: 'EUR',
    amount_micros: '50000',
    billable_messages: 1,
    billable_by_category: { utility: 1 },
    unpriced_messages: 0,
  });
  assert.deepEqual(
    yesterdayMetrics.evaluation?.criteria.map((c) => [c.name, c.passed]),
    [
      ['fast-first-reply', false],
      ['no-abandoned-window', false],
      ['sentiment-holds', true],
      ['greets', false],
      ['polite', true],
    ],
  );
  assert.equal(yesterdayMetrics.evaluation?.score, Math.round((100 * 2) / 6));

  // ================= GetTenantReport over the script's days =================
  const dayOf = (epochMs: number) => Math.floor(epochMs / DAY_MS) * DAY_MS;
  const from = dayOf(yesterdayAt);
  const to = dayOf(Date.now()) + DAY_MS;
  const report = await archiveCall<{ days: WireDay[] }>('GetTenantReport', { from: wire(from), to: wire(to) });
  assert.deepEqual(
    report.days.map((d) => d.date),
    Array.from({ length: (to - from) / DAY_MS }, (_, i) => new Date(from + i * DAY_MS).toISOString().slice(0, 10)),
  );
  const first = report.days[0] as WireDay;
  const today = report.days.at(-1) as WireDay;
  assert.deepEqual(
    [first.conversations, first.inbound_messages, first.outbound_messages, first.windows_closed_while_waiting, first.mean_score],
    [1, 1, 0, 1, yesterdayMetrics.evaluation?.score],
  );
  assert.deepEqual(
    [today.conversations, today.inbound_messages, today.outbound_messages, today.first_response_p50_ms, today.first_response_p90_ms],
    [2, 1 + customerMessages.length, business.length + 3, String(expectedFirstResponse), String(expectedFirstResponse)],
  );
  assert.equal(today.mean_score, (100 + (yesterdayMetrics.evaluation?.score ?? 0)) / 2);
  assert.deepEqual([today.cost.amount_micros, today.cost.billable_messages, today.cost.currency], ['50000', 1, 'EUR']);
  const labels = (label: string) => scored.filter((m) => m.sentiment?.label === label).length;
  assert.deepEqual(
    [today.positive_messages, today.neutral_messages, today.negative_messages],
    [labels('SENTIMENT_LABEL_POSITIVE'), labels('SENTIMENT_LABEL_NEUTRAL'), labels('SENTIMENT_LABEL_NEGATIVE')],
  );
  const ofNumber = await archiveCall<{ days: WireDay[] }>('GetTenantReport', {
    from: wire(from),
    to: wire(to),
    phone_number_id: stack.credentials.phoneNumberId,
  });
  assert.deepEqual(ofNumber, report, 'every conversation is on the demo number');
  const ofOther = await archiveCall<{ days: WireDay[] }>('GetTenantReport', {
    from: wire(from),
    to: wire(to),
    phone_number_id: 'another-number',
  });
  assert.deepEqual(
    ofOther.days.map((d) => [d.conversations, d.inbound_messages, d.outbound_messages]),
    report.days.map(() => [0, 0, 0]),
  );
  await assert.rejects(archiveCall('GetTenantReport', { from: wire(to), to: wire(from) }), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
    assert.ok(badRequestViolations(error).some((v) => v.field === 'to' || v.field === 'from'));
    return true;
  });

  // ================= SearchMessages: Latin with accents, Cyrillic, Chinese; filters; snippets =================
  const search = (request: Record<string, unknown>) =>
    archiveCall<{ hits: { message: WireTranscriptMessage; snippet: string; rank: number }[]; next_page_token: string }>(
      'SearchMessages',
      request,
    );
  const searchCases: [string, Record<string, unknown>, string, RegExp][] = [
    // Diacritics folded both ways: "donde esta" and "TAMBIÉN" find "¿Dónde está … también".
    ['donde esta', {}, laterIds[2] as string, /\[Dónde\] \[está\]/],
    ['TAMBIÉN', {}, laterIds[2] as string, /\[también\]/],
    ['wonderful', {}, laterIds[5] as string, /\[wonderful\]/],
    ['посылка', { customer: CUSTOMER }, laterIds[3] as string, /\[посылка\]/],
    // Chinese, written without spaces: a word inside the sentence.
    ['包裹', { direction: 'DIRECTION_INBOUND' }, laterIds[4] as string, /\[包裹\]/],
    // An outbound document by its filename, filtered by type and latest status.
    ['credit note', { direction: 'DIRECTION_OUTBOUND', type: 'document', status: 'MESSAGE_STATUS_READ' }, document.id, /\[credit\]/],
  ];
  for (const [query, filters, messageId, snippet] of searchCases) {
    const found = await search({ query, ...filters });
    assert.deepEqual(
      found.hits.map((hit) => hit.message.message_id),
      [messageId],
      query,
    );
    const [hit] = found.hits;
    assert.match(hit?.snippet ?? '', snippet, query);
    assert.deepEqual(
      hit?.message,
      transcript.find((m) => m.message_id === messageId),
      `${query}: the transcript's message`,
    );
  }
  assert.deepEqual((await search({ query: 'посылка', customer: YESTERDAY_CUSTOMER })).hits, [], 'filtered by customer');
  assert.deepEqual((await search({ query: '包裹', direction: 'DIRECTION_OUTBOUND' })).hits, [], 'filtered by direction');
  assert.deepEqual(
    (await search({ query: 'wonderful', from: wire(scriptStart), to: wire(ms(transcript[1]?.occurred_at)) })).hits,
    [],
    'filtered by time',
  );

  // ================= ExportConversations: the reassembled files match the manifest's SHA-256 =================
  const files = await exportBundle({ customer: CUSTOMER });
  const manifest = JSON.parse((files.get('manifest.json') ?? Buffer.alloc(0)).toString('utf8')) as {
    conversations: number;
    messages: number;
    files: { path: string; sha256: string; bytes: number; records: number }[];
  };
  assert.deepEqual([manifest.conversations, manifest.messages], [1, transcript.length]);
  assert.deepEqual(
    manifest.files.map((file) => file.path).sort(),
    [...files.keys()].filter((path) => path !== 'manifest.json').sort(),
    'the manifest lists every other file of the bundle',
  );
  assert.ok(manifest.files.some((file) => file.path === `transcripts/${conversation.conversation_id}.html`));
  for (const file of manifest.files) {
    const bytes = files.get(file.path) ?? Buffer.alloc(0);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), file.sha256, file.path);
    assert.equal(bytes.length, file.bytes, file.path);
  }
  const lines = (files.get('messages.jsonl') ?? Buffer.alloc(0)).toString('utf8').trim().split('\n');
  assert.deepEqual(
    lines.map((line) => (JSON.parse(line) as { message_id: string }).message_id),
    transcript.map((m) => m.message_id),
    'JSONL: every message of the conversation, in order',
  );
  assert.deepEqual(
    ['messages.jsonl', 'messages.csv'].map((path) => manifest.files.find((file) => file.path === path)?.records),
    [transcript.length, transcript.length],
  );
  assert.ok((files.get(`transcripts/${conversation.conversation_id}.html`) ?? Buffer.alloc(0)).toString('utf8').includes('посылка'));

  // ================= ListMessageEvents still works =================
  const events = await archiveCall<{ events: { kind: string; status: string; text_body: string }[] }>('ListMessageEvents', {
    message_id: reply.id,
  });
  // Oldest first by when each happened; WhatsApp's statuses carry whole seconds, so a webhook's SENT may sort before
  // delivery-retry's SENT (or even the acceptance) of the same second: compare as a multiset.
  assert.deepEqual(
    events.events.map((e) => e.status).sort(),
    ['MESSAGE_STATUS_ACCEPTED', 'MESSAGE_STATUS_SENT', 'MESSAGE_STATUS_SENT', 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ'].sort(),
  );
  assert.equal(events.events.find((e) => e.kind === 'accepted')?.text_body, TEXTS.reply);
  const inbound = await archiveCall<{ events: { kind: string }[] }>('ListMessageEvents', { message_id: firstWamid });
  assert.deepEqual(
    inbound.events.map((e) => e.kind),
    ['inbound'],
  );

  // ================= Nothing of the texts or phone numbers in the services' logs =================
  const secrets = [...Object.values(TEXTS), CUSTOMER.slice(1), YESTERDAY_CUSTOMER.slice(1)];
  const serviceLines = logLines.filter((l) => (SERVICES as readonly string[]).includes(l.process));
  assert.ok(
    serviceLines.some((l) => l.process === 'archive' && l.line.includes('"event archived"')),
    'the archive logged',
  );
  assert.deepEqual(
    serviceLines.filter((l) => secrets.some((secret) => l.line.includes(secret))),
    [],
  );
});
