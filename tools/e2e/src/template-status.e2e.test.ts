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
import { badRequestViolations } from '@waygate/grpc';
import {
  MessagingServiceClient,
  TemplateCategory,
  TemplateStatus,
  type ListTemplatesRequest,
  type ListTemplatesResponse,
  type Template,
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

    simulator.setTemplateStatus({ name: 'spring_sale', language: 'en_US', status: 'APPROVED' });
    await waitFor(async () => (await templateNamed('spring_sale'))?.status === TemplateStatus.TEMPLATE_STATUS_APPROVED, {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'spring_sale to be APPROVED again',
    });
  });
});
