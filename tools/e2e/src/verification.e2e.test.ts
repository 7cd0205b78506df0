/**
 * Verification end to end: the real processes (nats-server, the WhatsApp simulator, the five services on SQLite),
 * started by the same code as `npm start`, and a client built from the public protos. The code reaches the simulator
 * in Meta's authentication-template shape (copy code and one tap); right and wrong codes; the resend guard; the
 * per-number limit with RetryInfo; a recipient not on WhatsApp; and a byte search of every file under the data dir
 * (SQLite databases with their WALs, the JetStream store) and of every log line for the codes. Expiry by the clock is
 * apps/ingress/src/verification.test.ts's (ingress with an injected clock).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { status as grpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { checkGrpcHealth, retryDelayMs } from '@waygate/grpc';
import { createTempDir, freePort, waitFor } from '@waygate/testing';
import { startLocalStack, type LocalStack, type StackPorts } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

interface StartAnswer {
  verification_id: string;
  status: string;
  expires_at: { seconds: string };
  message_id: string;
  resent_suppressed: boolean;
}
interface CheckAnswer {
  verification_id: string;
  status: string;
  attempts_left: number;
  error_code: number;
  error_title: string;
}
interface SentRecord {
  waId: string;
  type: string;
  body: { template?: { name: string; language: { code: string }; components: unknown[] } } & Record<string, unknown>;
}

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let ports: StackPorts;
const logLines: { process: string; line: string }[] = [];
let verification: Client;
let messaging: Client;
let serial = 0;
/** Every code the simulator received: none may be anywhere else. */
const codes = new Set<string>();

const nextNumber = () => `+49152${String(1_000_000 + ++serial)}`;
const simulatorUrl = () => `http://127.0.0.1:${ports.simulator}`;
const start = (request: object) => callUnary<StartAnswer>(verification, 'StartVerification', request, stack.credentials.apiKey);
const check = (request: object) => callUnary<CheckAnswer>(verification, 'CheckVerification', request, stack.credentials.apiKey);

async function sentTo(number: string): Promise<SentRecord[]> {
  const answer = (await (await fetch(`${simulatorUrl()}/_simulator/sent`)).json()) as { messages: SentRecord[] };
  return answer.messages.filter((message) => message.waId === number.slice(1));
}

/** Waits for the code's message at the simulator; returns the request body Meta received and remembers the code. */
async function codeAt(number: string): Promise<{ code: string; body: SentRecord['body'] }> {
  const [message] = await waitFor(
    async () => {
      const sent = await sentTo(number);
      return sent.length > 0 ? sent : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: 'the code at the simulator' },
  );
  assert.ok(message);
  const components = message.body.template?.components as { type: string; parameters: { text: string }[] }[];
  const code = components[0]?.parameters[0]?.text ?? '';
  codes.add(code);
  return { code, body: message.body };
}

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const file = path.join(root, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

before(async () => {
  dir = createTempDir('waygate-verify-e2e-');
  const take = () => freePort();
  ports = {
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
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    // Spans go to a file under the data dir, so the byte search covers them too.
    serviceEnv: { WAYGATE_LOG_LEVEL: 'debug', WAYGATE_TRACE_FILE: path.join(dir.path, 'spans.jsonl') },
    onLine: (process, line) => logLines.push({ process, line }),
  });
  const clients = loadPublicClients();
  verification = clients.verification(`127.0.0.1:${ports.grpc.ingress}`);
  messaging = clients.messaging(`127.0.0.1:${ports.grpc.ingress}`);
  // The catalog is read from the simulator at start: until then StartVerification is UNAVAILABLE.
  await waitFor(
    async () => {
      try {
        await start({ to: nextNumber(), code_length: 10 });
        return true;
      } catch (error) {
        if ((error as ServiceError).code !== grpcStatus.UNAVAILABLE) throw error;
        return false;
      }
    },
    { timeoutMs: 30_000, what: 'the template catalog' },
  );
  await codeAt(`+49152${String(1_000_000 + serial)}`);
});

after(async () => {
  verification?.close();
  messaging?.close();
  await stack?.stop();
  if (process.exitCode && logLines.length > 0)
    process.stderr.write(
      `${logLines
        .slice(-60)
        .map((l) => `${l.process}: ${l.line}`)
        .join('\n')}\n`,
    );
  dir?.remove();
});

describe('verification end to end', () => {
  const resendNumber = nextNumber();

  test('ingress reports VerificationService SERVING on its health service', async () => {
    assert.equal(await checkGrpcHealth(`127.0.0.1:${ports.grpc.ingress}`, { service: 'waygate.verify.v1.VerificationService' }), 'SERVING');
  });

  test("copy code: the code reaches the simulator as Meta's authentication template (body and url button); the right code approves, once", async () => {
    const to = nextNumber();
    const started = await start({ to, code_length: 10 });
    assert.equal(started.status, 'VERIFICATION_STATUS_PENDING');
    const { code, body } = await codeAt(to);
    assert.match(code, /^\d{10}$/);
    assert.deepEqual(body.template, {
      name: 'login_code',
      language: { code: 'en_US' },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: code }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
      ],
    });
    assert.equal(body.type, 'template');
    assert.equal(body.to, to);
    const approved = await check({ verification_id: started.verification_id, code });
    assert.deepEqual([approved.status, approved.attempts_left], ['VERIFICATION_STATUS_APPROVED', 0]);
    assert.equal((await check({ to, code })).status, 'VERIFICATION_STATUS_APPROVED');
    // GetMessage shows the template, never the code.
    const message = await callUnary<{ content_summary: string }>(
      messaging,
      'GetMessage',
      { message_id: started.message_id },
      stack.credentials.apiKey,
    );
    assert.equal(message.content_summary, 'template login_code (en_US)');
    const listed = await callUnary<{ messages: { content_summary: string }[] }>(
      messaging,
      'ListMessages',
      { to },
      stack.credentials.apiKey,
    );
    assert.deepEqual(
      listed.messages.map((m) => m.content_summary),
      ['template login_code (en_US)'],
    );
  });

  test('one tap: the same shape with the one-tap template; five wrong codes fail it and the right one no longer approves', async () => {
    const to = nextNumber();
    const started = await start({ to, template: 'login_code_one_tap', locale: 'en_US', code_length: 10 });
    const { code, body } = await codeAt(to);
    assert.deepEqual(body.template, {
      name: 'login_code_one_tap',
      language: { code: 'en_US' },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: code }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
      ],
    });
    const wrong = code.startsWith('0') ? '1111111111' : '0000000000';
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await check({ verification_id: started.verification_id, code: wrong })).status);
    assert.deepEqual(statuses, [...Array(4).fill('VERIFICATION_STATUS_PENDING'), 'VERIFICATION_STATUS_FAILED']);
    assert.equal((await check({ verification_id: started.verification_id, code })).status, 'VERIFICATION_STATUS_FAILED');
  });

  test('a start for the same number within 30 s returns the pending verification and sends nothing new', async () => {
    const first = await start({ to: resendNumber, code_length: 10 });
    await codeAt(resendNumber);
    const again = await start({ to: resendNumber, code_length: 10 });
    assert.deepEqual([again.verification_id, again.message_id, again.resent_suppressed], [first.verification_id, first.message_id, true]);
    // The last test counts what the simulator received for this number once everything else has arrived.
  });

  test('the per-number hourly limit (5): RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const to = nextNumber();
    for (let i = 0; i < 5; i++) {
      const started = await start({ to, code_length: 10 });
      await callUnary(verification, 'CancelVerification', { verification_id: started.verification_id }, stack.credentials.apiKey);
    }
    const error = await start({ to, code_length: 10 }).then(
      () => assert.fail('a sixth code within the hour'),
      (e: unknown) => e as ServiceError,
    );
    assert.equal(error.code, grpcStatus.RESOURCE_EXHAUSTED);
    const delay = retryDelayMs(error) ?? 0;
    assert.ok(delay > 3_500_000 && delay <= 3_600_000, `RetryInfo ${delay} ms`);
    await waitFor(async () => ((await sentTo(to)).length === 5 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'five codes at the simulator',
    });
    for (const message of await sentTo(to)) {
      const components = message.body.template?.components as { parameters: { text: string }[] }[];
      codes.add(components[0]?.parameters[0]?.text ?? '');
    }
  });

  test('a recipient not on WhatsApp: the verification becomes UNDELIVERABLE with 131026', async () => {
    const to = nextNumber();
    const set = await fetch(`${simulatorUrl()}/_simulator/recipients/${to.slice(1)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'not_on_whatsapp' }),
    });
    assert.ok(set.ok);
    const started = await start({ to, code_length: 10 });
    await codeAt(to);
    await waitFor(
      async () =>
        (await callUnary<{ status: string }>(messaging, 'GetMessage', { message_id: started.message_id }, stack.credentials.apiKey))
          .status === 'MESSAGE_STATUS_FAILED',
      { timeoutMs: 20_000, intervalMs: 100, what: 'the message to fail' },
    );
    const answer = await waitFor(
      async () => {
        const checked = await check({ verification_id: started.verification_id, code: '0' });
        return checked.status === 'VERIFICATION_STATUS_UNDELIVERABLE' ? checked : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, what: 'UNDELIVERABLE' },
    );
    assert.equal(answer.error_code, 131026);
    assert.ok(answer.error_title.length > 0);
  });

  test('no code in plaintext in any file under the data dir (SQLite + WAL, JetStream store) or any log line; only the simulator has them', async () => {
    assert.equal((await sentTo(resendNumber)).length, 1, 'the suppressed resend sent nothing');
    assert.ok(codes.size >= 9, `codes seen: ${codes.size}`);
    const files = filesUnder(dir.path);
    assert.ok(files.some((file) => file.endsWith('ingress.sqlite-wal') || file.endsWith('ingress.sqlite')));
    assert.ok(
      files.some((file) => file.includes(`${path.sep}nats${path.sep}`)),
      'the JetStream store is searched',
    );
    let sealedSeen = 0;
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const code of codes) assert.equal(bytes.indexOf(code), -1, `code found in ${path.relative(dir.path, file)}`);
      if (bytes.indexOf('wgsealed:v1:') >= 0) sealedSeen++;
    }
    // The search can see stored content: the sealed codes are there (ingress's store, the outbound stream, delivery's schedule).
    assert.ok(sealedSeen >= 2, `sealed values found in ${sealedSeen} files`);
    const services = logLines.filter((l) => l.process !== 'whatsapp-simulator');
    assert.ok(services.length > 50);
    for (const code of codes) {
      const leaks = services.filter((l) => l.line.includes(code));
      assert.deepEqual(leaks, [], 'no log line has a code');
    }
  });
});
