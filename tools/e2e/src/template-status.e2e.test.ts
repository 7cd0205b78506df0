/**
 * Template status changes end to end, through real processes: receipt and ingress as child processes, a real
 * nats-server, and the WhatsApp simulator holding the WABA's templates. Meta pausing a template (the simulator's
 * control API) reaches ingress's catalog within seconds: the signed `message_template_status_update` webhook goes to
 * receipt, becomes a TemplateEvent on NATS, and ingress applies it at once (then re-syncs the WABA).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { badRequestViolations, preconditionViolations } from '@waygate/grpc';
import {
  MessagingServiceClient,
  MessageStatus,
  SendMessageRequest,
  TemplateCategory,
  TemplateComponentType,
  TemplateStatus,
  type ListTemplatesRequest,
  type ListTemplatesResponse,
  type Message,
  type SendMessageResponse,
  type Template,
  type TemplateComponent,
  type TemplateParameter,
} from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { seedTemplates, startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';

const WABA = '102290129340398';
const NUMBER = { id: '106540352242922', displayPhoneNumber: '+15550102030', accessToken: 'EAAtoken-acme', wabaId: WABA };
const APP_SECRET = 'template-e2e-app-secret';
const API_KEY = 'key-acme';

let nats: NatsServerHandle;
let simulator: WhatsAppSimulator;
let dir: ReturnType<typeof createTempDir>;
let receipt: ServiceProcess;
let ingress: ServiceProcess;
let client: MessagingServiceClient;

before(async () => {
  nats = await startNatsServer();
  dir = createTempDir('waygate-templates-e2e-');
  const [receiptGrpc, receiptHttp, ingressGrpc] = [await freePort(), await freePort(), await freePort()];
  simulator = await startSimulator({
    appSecret: APP_SECRET,
    phoneNumbers: [NUMBER],
    templates: seedTemplates(WABA),
    webhookUrl: `http://127.0.0.1:${receiptHttp}/webhooks/whatsapp`,
  });
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(
    tenantsFile,
    tenantsYaml([
      {
        id: 'acme',
        homeRegion: 'eu',
        apiKey: API_KEY,
        wabaId: WABA,
        appSecret: APP_SECRET,
        phoneNumberIds: [NUMBER.id],
        accessToken: NUMBER.accessToken,
      },
    ]),
  );
  const common = {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'template-e2e-internal-token-0123456789abcdef',
  };
  receipt = await startServiceProcess('receipt', {
    ...common,
    WAYGATE_GRPC_PORT: String(receiptGrpc),
    WAYGATE_HTTP_PORT: String(receiptHttp),
  });
  ingress = await startServiceProcess('ingress', { ...common, WAYGATE_GRPC_PORT: String(ingressGrpc) });
  client = new MessagingServiceClient(`127.0.0.1:${ingressGrpc}`, credentials.createInsecure());
});

after(async () => {
  client?.close();
  await ingress?.stop();
  await receipt?.stop();
  await simulator?.stop();
  await nats?.stop();
  dir?.remove();
});

function listTemplates(request: Partial<ListTemplatesRequest> = {}, apiKey = API_KEY): Promise<ListTemplatesResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  const full: ListTemplatesRequest = { wabaId: '', name: '', pageSize: 0, pageToken: '', ...request };
  return new Promise((resolve, reject) =>
    client.listTemplates(full, metadata, (error: ServiceError | null, response: ListTemplatesResponse) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

async function templateNamed(name: string): Promise<Template | undefined> {
  return (await listTemplates({ name })).templates[0];
}

function unary<Response>(method: 'sendMessage' | 'getMessage' | 'addOptOut' | 'removeOptOut', request: object): Promise<Response> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${API_KEY}`);
  const call = client[method].bind(client) as unknown as (
    request: object,
    metadata: Metadata,
    callback: (error: ServiceError | null, response: Response) => void,
  ) => void;
  return new Promise((resolve, reject) => call(request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}

let keys = 0;
/** SendMessage of a template to a customer who never wrote. */
function sendTemplate(name: string, components: TemplateComponent[], language = 'en_US'): Promise<SendMessageResponse> {
  return unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to: '+4915187654321',
      content: { $case: 'template', value: { name, language, components } },
      idempotencyKey: `template-${++keys}`,
    }),
  );
}

/** The refusal of a send (it must be refused). */
async function refusal(sending: Promise<unknown>): Promise<ServiceError> {
  return sending.then(
    () => assert.fail('expected the send to be refused'),
    (error: unknown) => error as ServiceError,
  );
}

const text = (value: string, parameterName = ''): TemplateParameter => ({ parameterName, value: { $case: 'text', value } });
const component = (type: TemplateComponentType, parameters: TemplateParameter[], subType = '', index = 0): TemplateComponent => ({
  type,
  subType,
  index,
  parameters,
});
const BODY = TemplateComponentType.TEMPLATE_COMPONENT_TYPE_BODY;
const HEADER = TemplateComponentType.TEMPLATE_COMPONENT_TYPE_HEADER;
const BUTTON = TemplateComponentType.TEMPLATE_COMPONENT_TYPE_BUTTON;
const SPRING_SALE = [
  component(HEADER, [
    {
      parameterName: '',
      value: {
        $case: 'image',
        value: { source: { $case: 'link', value: 'https://example.com/sale.jpg' }, caption: '', filename: '', voice: false },
      },
    },
  ]),
  component(BODY, [text('Ada'), text('20%')]),
];

/** Messages ingress stored for the tenant (its SQLite file, read-only beside the running process). */
function storedMessages(): number {
  const db = new Database(path.join(dir.path, 'eu', 'ingress.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS count FROM messages WHERE tenant_id = 'acme'").get() as { count: number }).count;
  } finally {
    db.close();
  }
}

describe('template catalog through receipt, NATS and ingress', () => {
  test('ingress syncs the WABA at start: ListTemplates shows every template with what it expects, in pages', async () => {
    const all = await waitFor(
      async () => {
        const page = await listTemplates();
        return page.templates.length === 4 ? page.templates : undefined;
      },
      { timeoutMs: 20_000, what: 'the first template sync' },
    );
    assert.deepEqual(
      all.map((template) => [template.name, template.category, template.status]),
      [
        ['login_code', TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION, TemplateStatus.TEMPLATE_STATUS_APPROVED],
        ['login_code_one_tap', TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION, TemplateStatus.TEMPLATE_STATUS_APPROVED],
        ['order_update', TemplateCategory.TEMPLATE_CATEGORY_UTILITY, TemplateStatus.TEMPLATE_STATUS_APPROVED],
        ['spring_sale', TemplateCategory.TEMPLATE_CATEGORY_MARKETING, TemplateStatus.TEMPLATE_STATUS_APPROVED],
      ],
    );
    const otp = all[0] as Template;
    assert.deepEqual(otp.authentication, { otpType: 'COPY_CODE', codeExpirationMinutes: 10, messageSendTtlSeconds: 300 });
    const named = all[2] as Template;
    assert.deepEqual(named.components.find((component) => component.parameterNames.length > 0)?.parameterNames, ['first_name', 'order_id']);

    const first = await listTemplates({ pageSize: 3 });
    assert.equal(first.templates.length, 3);
    const second = await listTemplates({ pageSize: 3, pageToken: first.nextPageToken });
    assert.deepEqual(
      second.templates.map((template) => template.name),
      ['spring_sale'],
    );
    assert.equal(second.nextPageToken, '');
  });

  test('a bad page token, page size or another WABA is INVALID_ARGUMENT naming each field', async () => {
    const error = (await listTemplates({ pageToken: 'garbage', pageSize: 501, wabaId: '999' }).catch(
      (caught: unknown) => caught,
    )) as ServiceError;
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error)
        .map((violation) => violation.field)
        .sort(),
      ['page_size', 'page_token', 'waba_id'],
    );
  });

  test('every refusal rule over gRPC, with nothing stored', async () => {
    const before = storedMessages();
    assert.equal((await refusal(sendTemplate('no_such_template', []))).code, grpcStatus.NOT_FOUND);
    assert.equal((await refusal(sendTemplate('order_update', [], 'de'))).code, grpcStatus.NOT_FOUND);

    const named = await refusal(sendTemplate('order_update', [component(BODY, [text('Ada'), text('A-1', 'nope')])]));
    assert.equal(named.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(named).map((violation) => `${violation.field} ${violation.reason}`),
      [
        'template.components[0].parameters[0].parameter_name REQUIRED',
        'template.components[0].parameters[1].parameter_name UNKNOWN',
        'template.components[0].parameters MISSING',
      ],
    );
    const positional = await refusal(
      sendTemplate('spring_sale', [component(BODY, [text('a'), text('b'), text('c')]), component(BUTTON, [], 'url', 0)]),
    );
    assert.deepEqual(
      badRequestViolations(positional).map((violation) => `${violation.field} ${violation.reason}`),
      ['template.components[0].parameters[2] UNEXPECTED', 'template.components[1].sub_type MISMATCH', 'template.components MISSING'],
    );
    const coupon: TemplateParameter = { parameterName: '', value: { $case: 'couponCode', value: '482913' } };
    const otp = await refusal(sendTemplate('login_code', [component(BODY, [text('482913')]), component(BUTTON, [coupon], 'url', 0)]));
    // A coupon_code is not an authentication code (which layer says so, shape check or catalog, may vary).
    assert.equal(otp.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(otp).map((violation) => violation.field),
      ['template.components[1].parameters[0]'],
    );
    assert.equal(storedMessages(), before, 'a refused send stores nothing');

    // The authentication template's message_send_ttl_seconds (300) is its default validity.
    const accepted = await sendTemplate('login_code', [component(BODY, [text('482913')]), component(BUTTON, [text('482913')], 'url', 0)]);
    const message = await unary<Message>('getMessage', { messageId: accepted.messageId });
    assert.equal(message.status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
    assert.equal((message.expiresAt?.getTime() ?? 0) - (message.acceptedAt?.getTime() ?? 0), 300_000);
    assert.equal(storedMessages(), before + 1);
  });

  test('a template Meta pauses is PAUSED in the catalog within seconds, and APPROVED again when Meta says so', async () => {
    const changed = await fetch(`${simulator.url}/_simulator/templates/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'spring_sale', language: 'en_US', status: 'PAUSED' }),
    });
    assert.equal(changed.status, 200);
    const startedAt = Date.now();
    const paused = await waitFor(
      async () => {
        const template = await templateNamed('spring_sale');
        return template?.status === TemplateStatus.TEMPLATE_STATUS_PAUSED ? template : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50, what: 'spring_sale to be PAUSED in the catalog' },
    );
    assert.equal(paused.rawStatus, 'PAUSED');
    assert.ok(Date.now() - startedAt < 5_000);
    const refused = await refusal(sendTemplate('spring_sale', SPRING_SALE));
    assert.equal(refused.code, grpcStatus.FAILED_PRECONDITION);
    assert.deepEqual(
      preconditionViolations(refused).map((violation) => [violation.type, violation.subject]),
      [['TEMPLATE_NOT_APPROVED', 'templates/spring_sale/en_US']],
    );

    simulator.setTemplateStatus({ name: 'spring_sale', language: 'en_US', status: 'APPROVED' });
    await waitFor(async () => (await templateNamed('spring_sale'))?.status === TemplateStatus.TEMPLATE_STATUS_APPROVED, {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'spring_sale to be APPROVED again',
    });
    assert.equal((await sendTemplate('spring_sale', SPRING_SALE)).status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
  });

  test('a MARKETING template to an opted-out customer is FAILED_PRECONDITION OPTED_OUT; other categories still go', async () => {
    const customer = '+4915187654321';
    await unary('addOptOut', { phoneNumber: customer });
    const before = storedMessages();
    const refused = await refusal(sendTemplate('spring_sale', SPRING_SALE));
    assert.equal(refused.code, grpcStatus.FAILED_PRECONDITION);
    assert.deepEqual(
      preconditionViolations(refused).map((violation) => violation.type),
      ['OPTED_OUT'],
    );
    assert.equal(storedMessages(), before, 'nothing stored for the refused send');
    // A utility template is not marketing: the opt-out does not stop it.
    const utility = await sendTemplate('order_update', [component(BODY, [text('Ada', 'first_name'), text('A-1', 'order_id')])]);
    assert.equal(utility.status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
    await unary('removeOptOut', { phoneNumber: customer });
    assert.equal((await sendTemplate('spring_sale', SPRING_SALE)).status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
  });
});
