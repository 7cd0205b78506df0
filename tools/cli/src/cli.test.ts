/** The operator CLI as a child process against real ingress and receipt processes, and doctor against the simulator. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectJetStream, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import Database from 'better-sqlite3';
import { InboundMessageReceived, MessageStatus, MessageStatusChanged, StatusSource } from '@waygate/proto';
import { hashApiKey, loadTenantsFile } from '@waygate/tenancy';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  tsxEntryCommand,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';

const ACME = {
  id: 'acme',
  homeRegion: 'eu' as const,
  apiKey: 'key-acme-cli-0001',
  wabaId: '900200',
  phoneNumberIds: ['700200'],
  accessToken: 'token-acme',
  appSecret: 'secret-acme',
  verifyToken: 'verify-acme',
};
const STRANGER = {
  id: 'stranger',
  homeRegion: 'eu' as const,
  apiKey: 'key-stranger-0001',
  wabaId: '900300',
  phoneNumberIds: ['700300'],
  accessToken: 'wrong-token',
};
const dir = createTempDir();
const tenantsFile = path.join(dir.path, 'tenants.yaml');
let nats: NatsServerHandle;
let connection: JetStreamConnection;
let simulator: WhatsAppSimulator;
let ingress: ServiceProcess;
let receipt: ServiceProcess;
let env: Record<string, string>;
let webhookUrl: string;

before(async () => {
  writeFileSync(tenantsFile, tenantsYaml([ACME, STRANGER]));
  nats = await startNatsServer();
  connection = await connectJetStream(nats.url, 'cli-test');
  simulator = await startSimulator({
    appSecret: ACME.appSecret,
    phoneNumbers: [{ id: '700200', displayPhoneNumber: '+1 555-000-1000', accessToken: ACME.accessToken, wabaId: ACME.wabaId }],
  });
  const [ingressPort, receiptPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const common = {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'cli-test-internal-token-0123456789abcdef',
  };
  [ingress, receipt] = await Promise.all([
    startServiceProcess('ingress', { ...common, WAYGATE_GRPC_PORT: String(ingressPort) }),
    startServiceProcess('receipt', { ...common, WAYGATE_GRPC_PORT: String(receiptPort), WAYGATE_HTTP_PORT: String(httpPort) }),
  ]);
  webhookUrl = `http://127.0.0.1:${httpPort}/webhooks/whatsapp`;
  env = {
    PATH: process.env.PATH ?? '',
    WAYGATE_ADDRESS: `127.0.0.1:${ingressPort}`,
    WAYGATE_RECEIPT_ADDRESS: `127.0.0.1:${receiptPort}`,
    WAYGATE_API_KEY: ACME.apiKey,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
  };
});

after(async () => {
  await Promise.all([ingress?.stop('SIGTERM'), receipt?.stop('SIGTERM')]);
  await simulator?.stop();
  await connection?.nc.close();
  await nats?.stop();
  dir.remove();
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run cli -- ...args` the way npm does (tsx on tools/cli/src/main.ts), as a child process. */
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  const entry = tsxEntryCommand('tools/cli/src/main.ts');
  return new Promise((resolve) => {
    execFile(
      entry.command,
      [...entry.args, ...args],
      { cwd: entry.cwd, env: { ...env, ...extraEnv }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const json = <T>(run: CliRun): T => JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as T;

test('hash-key prints the hash the tenants file takes, and the services accept that key', async () => {
  const run = await cli(['hash-key', ACME.apiKey, '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(json<{ sha256: string }>(run).sha256, hashApiKey(ACME.apiKey));
  assert.equal(loadTenantsFile(tenantsFile).authenticate(ACME.apiKey)?.id, 'acme');
  const human = await cli(['hash-key', 'another']);
  assert.match(human.stdout, new RegExp(`sha256: ${hashApiKey('another')}`));
});

test('send (shorthand, --json request, --file) and get through ingress', async () => {
  // Free-form text needs an open customer-service window: the customers write first (receipt's events, as published).
  for (const from of ['+4915112345678', '+4915112345679']) {
    const occurredAt = new Date();
    const inbound = InboundMessageReceived.fromPartial({
      eventId: `wa:in:wamid.cli-hello-${from.slice(1)}`,
      tenantId: 'acme',
      phoneNumberId: '700200',
      from,
      waMessageId: `wamid.cli-hello-${from.slice(1)}`,
      occurredAt,
      type: 'text',
      serviceWindowClosesAt: new Date(occurredAt.getTime() + 86_400_000),
    });
    await publishEvent(connection.js, regionSubjects('eu').inboundEvents, InboundMessageReceived.encode(inbound).finish(), inbound.eventId);
  }
  const view = new Database(path.join(dir.path, 'eu', 'ingress-customers.sqlite'), { readonly: true });
  try {
    await waitFor(() => view.prepare('SELECT COUNT(*) FROM customer_windows').pluck().get() === 2, { what: "the customers' windows" });
  } finally {
    view.close();
  }
  const sent = await cli(['send', '--to', '+4915112345678', '--text', 'Hello from the CLI', '--json']);
  assert.equal(sent.code, 0, sent.stderr);
  const accepted = json<{ messageId: string; status: string; idempotencyKey: string }>(sent);
  assert.match(accepted.messageId, /^msg_/);
  assert.equal(accepted.status, 'MESSAGE_STATUS_ACCEPTED');

  // The same request again (same idempotency key) is answered from the store: the same message.
  const again = await cli([
    'send',
    '--to',
    '+4915112345678',
    '--text',
    'Hello from the CLI',
    '--idempotency-key',
    accepted.idempotencyKey,
    '--json',
  ]);
  assert.equal(json<{ messageId: string }>(again).messageId, accepted.messageId);

  const request = { to: '+4915112345679', text: { body: 'JSON request', preview_url: true }, idempotency_key: 'cli-json-1' };
  const fromJson = await cli(['send', '--json', JSON.stringify(request), '--json']);
  assert.equal(fromJson.code, 0, fromJson.stderr);
  const file = path.join(dir.path, 'request.json');
  writeFileSync(file, JSON.stringify({ ...request, idempotency_key: 'cli-file-1' }));
  const fromFile = await cli(['send', '--file', file]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.match(fromFile.stdout, /^msg_\S+ MESSAGE_STATUS_ACCEPTED \(idempotency key cli-file-1\)$/m);

  const got = await cli(['get', accepted.messageId, '--json']);
  assert.equal(got.code, 0, got.stderr);
  const message = json<{ messageId: string; status: string; to: string }>(got);
  assert.equal(message.messageId, accepted.messageId);
  assert.equal(message.status, 'MESSAGE_STATUS_ACCEPTED');
});

test('errors: a bad request, an unknown key, JSON that does not parse, a missing key', async () => {
  const invalid = await cli(['send', '--json', '{"text":{"body":"no recipient"}}']);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /^error: INVALID_ARGUMENT: /);
  const unknownKey = await cli(['get', 'msg_01HZZZZZZZZZZZZZZZZZZZZZZZ', '--json'], { WAYGATE_API_KEY: 'not-a-key' });
  assert.equal(unknownKey.code, 1);
  assert.equal(json<{ error: { code: string } }>(unknownKey).error.code, 'UNAUTHENTICATED');
  const notJson = await cli(['send', '--json', '{to:'], {});
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /--json is not JSON/);
  const noKey = await cli(['get', 'msg_1'], { WAYGATE_API_KEY: '' });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /an API key is needed/);
});

test("watch streams the tenant's events from receipt, as JSON lines", async () => {
  await publishEvent(
    connection.js,
    regionSubjects('eu').deliveryEvents,
    MessageStatusChanged.encode(
      MessageStatusChanged.fromPartial({
        eventId: 'cli-watch-1',
        tenantId: 'acme',
        messageId: 'msg_cli_watch',
        status: MessageStatus.MESSAGE_STATUS_SENT,
        waMessageId: 'wamid.cli',
        occurredAt: new Date(),
        source: StatusSource.STATUS_SOURCE_DELIVERY,
        attempt: 1,
        recipient: '+4915112345678',
      }),
    ).finish(),
    'cli-watch-1',
  );
  const run = await cli(['watch', '--type', 'STATUS', '--limit', '1', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const event = json<{ event: { status: { messageId: string; status: string } } }>(run);
  assert.equal(event.event.status.messageId, 'msg_cli_watch');
  assert.equal(event.event.status.status, 'MESSAGE_STATUS_SENT');
});

test('templates lists the catalog, or names the gRPC status when ingress has none to offer', async () => {
  const run = await cli(['templates', '--json']);
  if (run.code === 0) assert.ok(Array.isArray(json<{ templates?: unknown[] }>(run).templates ?? []));
  else assert.match(json<{ error: { code: string } }>(run).error.code, /^(UNIMPLEMENTED|FAILED_PRECONDITION|UNAVAILABLE)$/);
});

test('doctor checks token, registration, tier and the webhook subscription against the Graph API (simulator)', async () => {
  const before = await cli(['doctor', '--tenant', 'acme', '--json']);
  assert.equal(before.code, 1, 'no app subscribed yet');
  const beforeReport = json<{ ok: boolean; checks: { check: string; ok: boolean; detail: string }[] }>(before);
  assert.deepEqual(
    beforeReport.checks.filter((c) => !c.ok).map((c) => c.check),
    ['WABA 900200: app subscribed to webhooks', 'webhook URL'],
  );
  assert.ok(beforeReport.checks.some((c) => c.check === 'number 700200: messaging tier' && /limit TIER_250, quality GREEN/.test(c.detail)));

  const subscribed = await fetch(`${simulator.url}/_simulator/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: webhookUrl, verifyToken: ACME.verifyToken }),
  });
  assert.equal(subscribed.status, 200);
  const afterRun = await cli(['doctor', '--tenant', 'acme', '--webhook-url', webhookUrl]);
  assert.equal(afterRun.code, 0, afterRun.stdout + afterRun.stderr);
  assert.match(afterRun.stdout, /ok {4}webhook URL: Meta sends to http:\/\/127\.0\.0\.1:\d+\/webhooks\/whatsapp \(app callback\)/);
  assert.match(afterRun.stdout, /onboarding looks complete/);
  const wrongUrl = await cli(['doctor', '--tenant', 'acme', '--webhook-url', 'https://elsewhere.example/hook']);
  assert.equal(wrongUrl.code, 1);
  assert.match(wrongUrl.stdout, /FAIL {2}webhook URL/);

  const stranger = await cli(['doctor', '--tenant', 'stranger', '--json']);
  assert.equal(stranger.code, 1);
  const checks = json<{ checks: { check: string; ok: boolean; detail: string }[] }>(stranger).checks;
  assert.deepEqual(checks[0], { check: 'number 700300: access token valid', ok: false, detail: checks[0]?.detail });
  assert.match(checks[0]?.detail ?? '', /Meta error 190/);
  assert.doesNotMatch(stranger.stdout, /wrong-token/, 'the token is never printed');
});
