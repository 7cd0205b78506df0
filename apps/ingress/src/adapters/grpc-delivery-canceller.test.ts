import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AbortedError, FailedPreconditionError, NotFoundError, UnavailableError, isWaygateError } from '@waygate/domain';
import { startGrpcServer, type RunningGrpcServer } from '@waygate/grpc';
import {
  DeliveryAdminServiceService,
  DeliveryState,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  type CancelDeliveryRequest,
  type CancelDeliveryResponse,
  type DeliveryAdminServiceServer,
} from '@waygate/proto';
import { parseTenants } from '@waygate/tenancy';
import { freePort, tenantsYaml } from '@waygate/testing';
import { createGrpcDeliveryCanceller } from './grpc-delivery-canceller';

const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
const TOKEN = 'internal-token-0123456789abcdef0123456789';

/** What our in-test DeliveryAdminService saw. */
const seen: { messageId: string; authorization: unknown; tenant: unknown }[] = [];
/** Calls left unanswered (to run into the client's deadline); answered at teardown. */
const held: sendUnaryData<CancelDeliveryResponse>[] = [];

function delivery(messageId: string, state: DeliveryState): CancelDeliveryResponse {
  return {
    delivery: {
      messageId,
      state,
      attempts: 0,
      waMessageId: '',
      lastErrorCode: 0,
      lastErrorTitle: '',
      nextAttemptAt: undefined,
      expiresAt: undefined,
    },
  };
}

/** A small DeliveryAdminService of our own: the message id says how to answer. */
const implementation: DeliveryAdminServiceServer = {
  getDelivery: (_call, callback) => callback({ code: status.UNIMPLEMENTED, details: 'not in this test' }),
  cancelDelivery: (call: ServerUnaryCall<CancelDeliveryRequest, CancelDeliveryResponse>, callback) => {
    const { messageId } = call.request;
    seen.push({
      messageId,
      authorization: call.metadata.get('authorization')[0],
      tenant: call.metadata.get('x-waygate-authenticated-tenant')[0],
    });
    const codes: Record<string, status> = {
      settled: status.FAILED_PRECONDITION,
      sending: status.ABORTED,
      unknown: status.NOT_FOUND,
      down: status.UNAVAILABLE,
      broken: status.INTERNAL,
    };
    if (messageId === 'slow') return void held.push(callback);
    if (messageId in codes) return callback({ code: codes[messageId], details: `delivery-retry says ${messageId}` });
    callback(null, delivery(messageId, messageId === 'odd' ? DeliveryState.DELIVERY_STATE_SENT : DeliveryState.DELIVERY_STATE_CANCELED));
  },
};

let server: RunningGrpcServer;
let canceller: ReturnType<typeof createGrpcDeliveryCanceller>;

before(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    // Internal like delivery-retry's: only the region's service token is accepted.
    internalServiceToken: TOKEN,
    services: [
      {
        name: SERVICE_NAMES.deliveryAdmin,
        protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
        definition: DeliveryAdminServiceService,
        access: 'internal',
        implementation,
      },
    ],
  });
  canceller = createGrpcDeliveryCanceller({ address: `127.0.0.1:${server.port}`, serviceToken: TOKEN, deadlineMs: 300 });
});

after(async () => {
  for (const callback of held) callback(null, delivery('slow', DeliveryState.DELIVERY_STATE_CANCELED));
  canceller.close();
  await server.shutdown(1000);
});

test("calls the internal CancelDelivery with the region's service token and the tenant's id, never a tenant credential", async () => {
  await canceller.cancel('acme', 'msg_1');
  assert.deepEqual(seen.at(-1), { messageId: 'msg_1', authorization: `Bearer ${TOKEN}`, tenant: 'acme' });
});

test('maps delivery-retry refusals to the domain errors the caller sees', async () => {
  const expectations: [string, (error: unknown) => boolean][] = [
    [
      'settled',
      (e) =>
        e instanceof FailedPreconditionError && e.violations[0].type === 'DELIVERY_STATE' && /can no longer be canceled/.test(e.message),
    ],
    ['sending', (e) => e instanceof AbortedError && /retry CancelMessage/.test(e.message)],
    ['unknown', (e) => e instanceof NotFoundError && e.id === 'unknown'],
    ['down', (e) => e instanceof UnavailableError],
  ];
  for (const [messageId, check] of expectations) {
    await assert.rejects(canceller.cancel('acme', messageId), check, messageId);
  }
});

test('a deadline bounds the wait: a delivery-retry that does not answer is UnavailableError', async () => {
  await assert.rejects(canceller.cancel('acme', 'slow'), UnavailableError);
});

test('an unreachable delivery-retry is UnavailableError', async () => {
  const nobody = createGrpcDeliveryCanceller({ address: `127.0.0.1:${await freePort()}`, serviceToken: TOKEN, deadlineMs: 2000 });
  try {
    await assert.rejects(nobody.cancel('acme', 'msg_1'), UnavailableError);
  } finally {
    nobody.close();
  }
});

test('anything unexpected (other codes, a rejected token, a non-CANCELED answer) is an internal error, not a domain error', async () => {
  const wrongToken = createGrpcDeliveryCanceller({ address: `127.0.0.1:${server.port}`, serviceToken: `${TOKEN}-wrong`, deadlineMs: 2000 });
  try {
    for (const [messageId, client] of [
      ['broken', canceller],
      ['msg_2', wrongToken],
      ['odd', canceller],
    ] as const) {
      await assert.rejects(
        client.cancel('acme', messageId),
        (error: unknown) => error instanceof Error && !isWaygateError(error),
        messageId,
      );
    }
  } finally {
    wrongToken.close();
  }
});
