/**
 * Property tests of SendMessage through a real gRPC server (ingress wired as in production: SQLite, JetStream):
 * any well-formed request to a customer who wrote first is accepted (and then GetMessage shows what was asked, and a retry with its key returns
 * the same message) or refused with INVALID_ARGUMENT whose BadRequest names exactly the bad fields; never INTERNAL,
 * never a crash. Arbitrary bytes as the request body: the server answers and stays up. These take a tenth of the
 * runs a pure property takes (WAYGATE_FUZZ_RUNS, see libs/testing/src/fuzz-parameters.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { badRequestViolations, preconditionViolations } from '@waygate/grpc';
import { SendMessageRequest, type Message, type SendMessageResponse } from '@waygate/proto';
import { fuzzParameters, waitFor } from '@waygate/testing';
import type { SendRequest } from './domain/send-request';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';
import { expectedViolations, REASONS } from './testing/send-request-model';

const API_KEY = 'key-acme';
const PHONE_NUMBER_IDS = ['200', '201'];
const SEND_PATH = '/waygate.messaging.v1.MessagingService/SendMessage';
const GRPC_SHARE = 0.1;
/** Customers who wrote to both numbers before the run (free-form text to anyone else is refused: window closed). */
const CUSTOMERS_WHO_WROTE = ['+4915112345678', '+4915112345679', '+4915112345670'];
/** When each customer's window closes (ms), as ingress's view has it. */
let windowClosesAtMs = 0;

let harness: IngressHarness;
let rawClient: Client;

before(async () => {
  harness = await startIngressHarness({ tenants: [{ id: 'acme', homeRegion: 'eu', apiKey: API_KEY, phoneNumberIds: PHONE_NUMBER_IDS }] });
  rawClient = new Client(`127.0.0.1:${harness.ingress.grpcPort}`, credentials.createInsecure());
  const writtenAt = new Date();
  let n = 0;
  for (const from of CUSTOMERS_WHO_WROTE) {
    for (const phoneNumberId of PHONE_NUMBER_IDS) {
      const message = { tenantId: 'acme', phoneNumberId, from, waMessageId: `wamid.fuzz-${++n}`, at: writtenAt };
      // The same for every customer: they all wrote at writtenAt.
      windowClosesAtMs = (await harness.customerWrites(message)).getTime();
    }
  }
  const probe = (to: string, phoneNumberId: string) =>
    send(
      SendMessageRequest.fromPartial({
        to,
        phoneNumberId,
        content: { $case: 'text', value: { body: 'probe', previewUrl: false } },
        idempotencyKey: `probe-${to}-${phoneNumberId}`,
      }),
    ).then(({ response }) => response !== undefined);
  await waitFor(
    async () => (await Promise.all(CUSTOMERS_WHO_WROTE.flatMap((to) => PHONE_NUMBER_IDS.map((id) => probe(to, id))))).every(Boolean),
    { what: "every customer's window in ingress's view" },
  );
});

after(async () => {
  rawClient?.close();
  await harness?.stop();
});

function authorization(): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${API_KEY}`);
  return metadata;
}

type Outcome<T> = { response: T; error?: undefined } | { response?: undefined; error: ServiceError };

function send(request: SendMessageRequest): Promise<Outcome<SendMessageResponse>> {
  return new Promise((resolve) =>
    harness.client.sendMessage(request, authorization(), (error, response) => resolve(error ? { error } : { response })),
  );
}

function getMessage(messageId: string): Promise<Message> {
  return new Promise((resolve, reject) =>
    harness.client.getMessage({ messageId }, authorization(), (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function sendRaw(bytes: Buffer): Promise<Outcome<Buffer>> {
  return new Promise((resolve) =>
    rawClient.makeUnaryRequest(
      SEND_PATH,
      (value: Buffer) => value,
      (value: Buffer) => value,
      bytes,
      authorization(),
      (error, response) => resolve(error ? { error } : { response: response as Buffer }),
    ),
  );
}

/** The request as ingress's handler sees it, in the domain's terms (what the model judges). */
function asDomainRequest(request: SendMessageRequest): SendRequest {
  return {
    to: request.to,
    content:
      request.content?.$case === 'text'
        ? { kind: 'text', body: request.content.value.body, previewUrl: request.content.value.previewUrl }
        : undefined,
    idempotencyKey: request.idempotencyKey,
    validity: request.validity ? { seconds: Number(request.validity.seconds), nanos: request.validity.nanos } : undefined,
    phoneNumberId: request.phoneNumberId,
    replyTo: request.replyTo,
  };
}

/** The same request sent twice: what the service compares to tell a retry from a reused key. */
function normalized(request: SendRequest): string {
  const validity = request.validity ? request.validity.seconds + request.validity.nanos / 1e9 : 30 * 86_400;
  return JSON.stringify([request.to, request.content, validity, request.phoneNumberId || PHONE_NUMBER_IDS[0]]);
}

const stringArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary-ascii', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 6 }),
);
const requestArb: fc.Arbitrary<SendMessageRequest> = fc
  .record({
    to: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...CUSTOMERS_WHO_WROTE) },
      { weight: 2, arbitrary: fc.stringMatching(/^\+[1-9][0-9]{7,14}$/) },
      { weight: 1, arbitrary: stringArb },
    ),
    content: fc.oneof(
      { weight: 6, arbitrary: fc.record({ body: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), previewUrl: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ body: stringArb, previewUrl: fc.boolean() }) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    // Keys from a small alphabet, so that some repeat: a repeat is a retry (same request) or a conflict.
    idempotencyKey: fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[a-c]{1,6}$/) }, { weight: 1, arbitrary: stringArb }),
    validity: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 3,
        arbitrary: fc.record({ seconds: fc.integer({ min: 30, max: 2_591_999 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          seconds: fc.oneof(fc.integer({ min: -100, max: 3_000_000 }), fc.constantFrom(0, 29, 30, 2_592_000, 315_576_000_001)),
          nanos: fc.oneof(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }), fc.constantFrom(0, 1, -1, 999_999_999, 2_000_000_000)),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          seconds: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          nanos: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        }),
      },
    ),
    phoneNumberId: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('', ...PHONE_NUMBER_IDS) }, { weight: 1, arbitrary: stringArb }),
  })
  .map(({ to, content, idempotencyKey, validity, phoneNumberId }) =>
    // A round trip through the wire format: what the server decodes (lone surrogates become U+FFFD, and so on).
    SendMessageRequest.decode(
      SendMessageRequest.encode(
        SendMessageRequest.fromPartial({
          to,
          content: content ? { $case: 'text', value: content } : undefined,
          idempotencyKey,
          validity: validity ? { seconds: String(validity.seconds), nanos: validity.nanos } : undefined,
          phoneNumberId,
        }),
      ).finish(),
    ),
  );

/** Messages accepted so far, by idempotency key: a later request with the key is a retry or a conflict. */
const accepted = new Map<string, { normalized: string; messageId: string }>();

test('SendMessage over gRPC: accepted as asked (a retry returns the same message), INVALID_ARGUMENT naming exactly the bad fields, or FAILED_PRECONDITION to a customer who never wrote', async (t) => {
  const parameters = fuzzParameters(GRPC_SHARE);
  t.diagnostic(`${parameters.numRuns} runs`);
  await fc.assert(
    fc.asyncProperty(requestArb, async (request) => {
      const domainRequest = asDomainRequest(request);
      const expected = expectedViolations(domainRequest, PHONE_NUMBER_IDS);
      const { response, error } = await send(request);
      if (expected.size > 0) {
        assert.equal(
          error?.code,
          grpcStatus.INVALID_ARGUMENT,
          `expected INVALID_ARGUMENT for ${[...expected].join(', ')}, got ${error?.code ?? 'OK'}`,
        );
        const violations = badRequestViolations(error);
        assert.deepEqual(new Set(violations.map((v) => v.field)), expected);
        assert.ok(violations.every((v) => REASONS.has(v.reason) && v.description.length > 0));
        return;
      }
      const earlier = accepted.get(request.idempotencyKey);
      if (!earlier && !CUSTOMERS_WHO_WROTE.includes(request.to)) {
        // Nothing is stored for a refusal, so the key stays free.
        assert.equal(
          error?.code,
          grpcStatus.FAILED_PRECONDITION,
          `free-form text to a customer who never wrote: got ${error?.code ?? 'OK'}`,
        );
        assert.deepEqual(
          preconditionViolations(error).map((v) => v.type),
          ['SERVICE_WINDOW_CLOSED'],
        );
        return;
      }
      if (earlier && earlier.normalized !== normalized(domainRequest)) {
        assert.equal(error?.code, grpcStatus.ALREADY_EXISTS, 'a reused key with a different request');
        return;
      }
      assert.ok(response, `expected OK, got ${error?.code}: ${error?.details}`);
      if (earlier) {
        assert.equal(response.messageId, earlier.messageId, 'a retry returns the original message');
        return;
      }
      accepted.set(request.idempotencyKey, { normalized: normalized(domainRequest), messageId: response.messageId });
      const message = await getMessage(response.messageId);
      assert.equal(message.to, request.to);
      const acceptedAtMs = message.acceptedAt?.getTime() ?? 0;
      const askedMs = domainRequest.validity
        ? (domainRequest.validity.seconds + domainRequest.validity.nanos / 1e9) * 1000
        : 30 * 86_400_000;
      // Free-form text's validity is capped at the close of the customer's window.
      const validityMs = Math.min(askedMs, windowClosesAtMs - acceptedAtMs);
      const expiresInMs = (message.expiresAt?.getTime() ?? 0) - acceptedAtMs;
      assert.ok(Math.abs(expiresInMs - validityMs) < 1, `expires ${expiresInMs} ms after acceptance, expected ${validityMs}`);
    }),
    parameters,
  );
  assert.deepEqual(
    harness.logLines.filter((line) => line.includes('unexpected error')),
    [],
    'no request reached the INTERNAL path',
  );
});

test('SendMessage over gRPC: arbitrary bytes get an answer, INTERNAL only when they are not a SendMessageRequest, and the server stays up', async (t) => {
  const parameters = fuzzParameters(GRPC_SHARE);
  t.diagnostic(`${parameters.numRuns} runs`);
  const validBytes = requestArb.map((request) => Buffer.from(SendMessageRequest.encode(request).finish()));
  const mutatedArb = fc
    .tuple(
      validBytes,
      fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), cut: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    )
    .map(([bytes, edits]) =>
      edits.reduce((current, edit) => {
        const at = edit.at % (current.length + 1);
        return edit.cut
          ? current.subarray(0, at)
          : Buffer.concat([current.subarray(0, at), Buffer.from([edit.byte]), current.subarray(at)]);
      }, bytes),
    );
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        mutatedArb,
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      ),
      async (bytes) => {
        let decodable = true;
        try {
          SendMessageRequest.decode(bytes);
        } catch {
          decodable = false;
        }
        const { error } = await sendRaw(bytes);
        if (!decodable) {
          assert.equal(error?.code, grpcStatus.INTERNAL, 'grpc-js refuses what it cannot decode');
          assert.match(error.details, /^Error deserializing request/);
        } else {
          assert.ok(
            !error || [grpcStatus.INVALID_ARGUMENT, grpcStatus.ALREADY_EXISTS, grpcStatus.FAILED_PRECONDITION].includes(error.code),
            `decodable bytes answered ${error?.code}: ${error?.details}`,
          );
        }
      },
    ),
    parameters,
  );
  // Still serving.
  const { response } = await send(
    SendMessageRequest.fromPartial({
      to: '+4915112345678',
      content: { $case: 'text', value: { body: 'still up', previewUrl: false } },
      idempotencyKey: 'after-raw',
    }),
  );
  assert.ok(response?.messageId);
  assert.deepEqual(
    harness.logLines.filter((line) => line.includes('unexpected error')),
    [],
  );
});
