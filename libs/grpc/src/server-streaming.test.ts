import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { InvalidArgumentError } from '@waygate/domain';
import {
  ReceiptServiceClient,
  ReceiptServiceService,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  TenantEventType,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml, waitFor } from '@waygate/testing';
import { badRequestViolations } from './error-mapping';
import { startGrpcServer, type RunningGrpcServer } from './grpc-server';
import { serverStreamingHandler, StreamCancelledError } from './server-streaming';

const logger = createLogger({
  service: 'grpc-stream-test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});
const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
/** A payload large enough that a paused client fills the transport's buffers after a few hundred messages. */
const BIG_TEXT = 'x'.repeat(16 * 1024);

/** What the test handler did, per call (keyed by the requested `after_sequence`). */
const progress = new Map<string, { written: number; waiting: boolean; ended?: 'done' | 'cancelled' | 'error'; tenant?: string }>();

let server: RunningGrpcServer;
let client: ReceiptServiceClient;

function event(sequence: number): WatchEventsResponse {
  return {
    event: {
      eventId: `e${sequence}`,
      sequence: String(sequence),
      tenantId: 'acme',
      type: TenantEventType.TENANT_EVENT_TYPE_INBOUND,
      occurredAt: undefined,
      recordedAt: undefined,
      payload: {
        $case: 'inbound',
        value: {
          waMessageId: '',
          phoneNumberId: '',
          from: '',
          type: 'text',
          text: BIG_TEXT,
          replyId: '',
          mediaId: '',
          mimeType: '',
          contextWaMessageId: '',
          contentJson: '',
          serviceWindowClosesAt: undefined,
        },
      },
    },
  };
}

before(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    services: [
      {
        name: SERVICE_NAMES.receipt,
        protoFile: SERVICE_PROTO_FILES.receipt,
        definition: ReceiptServiceService,
        implementation: {
          // The request's after_sequence is the call's key; message_ids[0] says how many events to send.
          watchEvents: serverStreamingHandler<WatchEventsRequest, WatchEventsResponse>(tenants, logger, async (request, tenant, stream) => {
            const state: { written: number; waiting: boolean; ended?: 'done' | 'cancelled' | 'error'; tenant?: string } = {
              written: 0,
              waiting: false,
              tenant: tenant.id,
            };
            progress.set(request.afterSequence, state);
            if (request.messageIds[0] === 'invalid')
              throw new InvalidArgumentError([{ field: 'message_ids[0]', reason: 'INVALID', description: 'is invalid' }]);
            const count = Number(request.messageIds[0]);
            try {
              for (let sequence = 1; sequence <= count; sequence++) {
                state.waiting = true;
                await stream.write(event(sequence));
                state.waiting = false;
                state.written = sequence;
              }
              state.ended = 'done';
            } catch (error) {
              state.ended = error instanceof StreamCancelledError && stream.signal.aborted ? 'cancelled' : 'error';
            }
          }),
          listDeadLetters: () => undefined,
          replayDeadLetters: () => undefined,
        },
      },
    ],
  });
  client = new ReceiptServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

function watch(key: string, count: string, apiKey = 'key-acme'): ClientReadableStream<WatchEventsResponse> {
  const metadata = new Metadata();
  if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
  return client.watchEvents({ afterSequence: key, messageIds: [count], recipients: [], eventTypes: [] }, metadata);
}

/** Reads a whole stream: its messages' sequences and how it ended. */
function readAll(stream: ClientReadableStream<WatchEventsResponse>): Promise<{ sequences: number[]; error?: ServiceError }> {
  const sequences: number[] = [];
  return new Promise((resolve) => {
    stream.on('data', (response: WatchEventsResponse) => sequences.push(Number(response.event?.sequence)));
    stream.on('error', (error: ServiceError) => resolve({ sequences, error }));
    stream.on('end', () => resolve({ sequences }));
  });
}

test('streams every message in order to the authenticated tenant, then ends with OK', async () => {
  const { sequences, error } = await readAll(watch('1', '5'));
  assert.equal(error, undefined);
  assert.deepEqual(sequences, [1, 2, 3, 4, 5]);
  assert.equal(progress.get('1')?.tenant, 'acme');
  assert.equal(progress.get('1')?.ended, 'done');
});

test('a call without a valid API key is UNAUTHENTICATED and the handler never runs', async () => {
  const { error } = await readAll(watch('2', '5', 'nope'));
  assert.equal(error?.code, status.UNAUTHENTICATED);
  assert.equal(progress.has('2'), false);
});

test('a domain error ends the stream with its status and details', async () => {
  const { error } = await readAll(watch('3', 'invalid'));
  assert.equal(error?.code, status.INVALID_ARGUMENT);
  assert.deepEqual(badRequestViolations(error as ServiceError), [
    { field: 'message_ids[0]', reason: 'INVALID', description: 'is invalid' },
  ]);
});

test('a paused client holds the handler in write (backpressure); resuming delivers everything in order', async () => {
  const total = 300;
  const stream = watch('4', String(total));
  const sequences: number[] = [];
  stream.on('data', (response: WatchEventsResponse) => {
    sequences.push(Number(response.event?.sequence));
    if (sequences.length === 1) stream.pause();
  });
  const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
  // The handler is parked in write() with most messages still unsent: it buffers only what the transport holds.
  await waitFor(() => progress.get('4')?.waiting && sequences.length === 1, { what: 'the handler waiting for the client' });
  const parkedAt = progress.get('4')?.written ?? 0;
  assert.ok(parkedAt < total, `handler wrote ${parkedAt} of ${total} before waiting`);
  stream.resume();
  await ended;
  assert.deepEqual(
    sequences,
    Array.from({ length: total }, (_, i) => i + 1),
  );
  assert.equal(progress.get('4')?.ended, 'done');
});

test('cancelling the call rejects a pending write and aborts the signal', async () => {
  const stream = watch('5', '300');
  stream.on('data', () => stream.pause());
  stream.on('error', () => undefined);
  await waitFor(() => progress.get('5')?.waiting && (progress.get('5')?.written ?? 0) > 0, { what: 'the handler waiting for the client' });
  stream.cancel();
  await waitFor(() => progress.get('5')?.ended, { what: 'the handler to stop' });
  assert.equal(progress.get('5')?.ended, 'cancelled');
});
