import { InvalidArgumentError, type FieldViolation } from '@waygate/domain';
import { isDeadLetterId, type DeadLetter, type DeadLetterSelection, type DeadLetterStore } from '@waygate/nats';
import {
  DeadLetterAdminServiceService,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  type ConsumerDeadLetter,
  type DeadLetterAdminServiceServer,
} from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import { internalUnaryHandler, type ServedService } from './grpc-server';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
const MAX_IDS = 1000;
/** Longest value echoed back in a field violation. */
const MAX_ECHO_CHARS = 64;

function echo(value: string): string {
  return value.length > MAX_ECHO_CHARS ? `${value.slice(0, MAX_ECHO_CHARS)}…` : value;
}

function toProto(letter: DeadLetter): ConsumerDeadLetter {
  return {
    id: letter.id,
    consumer: letter.consumer,
    reason: letter.reason,
    reasonKind: letter.reasonKind,
    originalSubject: letter.originalSubject,
    originalStream: letter.originalStream,
    originalSequence: String(letter.originalSequence),
    deliveryCount: letter.deliveryCount,
    publishedAt: letter.publishedAt,
    deadLetteredAt: letter.deadLetteredAt,
    sizeBytes: letter.sizeBytes,
    dataOmitted: letter.dataOmitted,
  };
}

/**
 * `DeadLetterAdminService` over a {@link DeadLetterStore}, for the given consumers (the durables this service runs).
 * It is internal: only the region's service token opens it, never a tenant's API key (checked by `startGrpcServer`'s
 * interceptor and again by each handler). Bad requests fail with INVALID_ARGUMENT and a google.rpc.BadRequest naming
 * each bad field.
 */
export function createDeadLetterAdminService(options: {
  store: DeadLetterStore;
  consumers: readonly string[];
  internalServiceToken: string;
  logger: Logger;
}): ServedService {
  const { store, consumers, logger } = options;
  const known = new Set(consumers);

  function checkConsumer(consumer: string, required: boolean, violations: FieldViolation[]): void {
    if (!consumer && !required) return;
    if (!known.has(consumer)) {
      violations.push({
        field: 'consumer',
        description: consumer
          ? `"${echo(consumer)}" is not a consumer of this service (${[...known].join(', ')})`
          : `required: one of ${[...known].join(', ')}`,
        reason: consumer ? 'UNKNOWN_CONSUMER' : 'REQUIRED',
      });
    }
  }

  function selection(request: { consumer: string; ids: string[]; all: boolean }): DeadLetterSelection {
    const violations: FieldViolation[] = [];
    checkConsumer(request.consumer, true, violations);
    if (request.all && request.ids.length > 0) {
      violations.push({ field: 'ids', description: 'must be empty when all is set', reason: 'CONFLICT' });
    } else if (!request.all && request.ids.length === 0) {
      violations.push({ field: 'ids', description: 'name at least one dead letter, or set all', reason: 'REQUIRED' });
    } else if (request.ids.length > MAX_IDS) {
      violations.push({ field: 'ids', description: `at most ${MAX_IDS} ids`, reason: 'TOO_MANY' });
    } else {
      request.ids.forEach((id, index) => {
        if (!isDeadLetterId(id))
          violations.push({ field: `ids[${index}]`, description: `"${echo(id)}" is not a dead letter id`, reason: 'INVALID_ID' });
      });
    }
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    return request.all ? { all: true } : { ids: request.ids };
  }

  /** An internal unary handler: the token checked, errors mapped to gRPC statuses in the one shared place. */
  const unary = <Request, Response>(handle: (request: Request) => Promise<Response>) =>
    internalUnaryHandler<Request, Response>(options.internalServiceToken, logger, handle);

  const implementation: DeadLetterAdminServiceServer = {
    listConsumerDeadLetters: unary(async (request) => {
      const violations: FieldViolation[] = [];
      checkConsumer(request.consumer, false, violations);
      if (request.pageSize < 0 || request.pageSize > MAX_PAGE_SIZE)
        violations.push({
          field: 'page_size',
          description: `must be 1 to ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`,
          reason: 'OUT_OF_RANGE',
        });
      if (request.pageToken && !isDeadLetterId(request.pageToken))
        violations.push({ field: 'page_token', description: 'not a token this API returned', reason: 'INVALID_PAGE_TOKEN' });
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      // The token was checked above with the store's own rule, so the store never refuses it here.
      const page = await store.list({
        consumers: request.consumer ? [request.consumer] : [...known],
        pageSize: request.pageSize || DEFAULT_PAGE_SIZE,
        ...(request.pageToken ? { pageToken: request.pageToken } : {}),
      });
      return { deadLetters: page.deadLetters.map(toProto), nextPageToken: page.nextPageToken };
    }),
    replayConsumerDeadLetters: unary(async (request) => {
      const replayed = await store.replay(request.consumer, selection(request));
      // An operator's action: worth one line (ids and counts only).
      logger.info({ consumer: request.consumer, replayed, all: request.all }, 'dead letters replayed');
      return { replayed };
    }),
    discardConsumerDeadLetters: unary(async (request) => {
      const discarded = await store.discard(request.consumer, selection(request));
      logger.info({ consumer: request.consumer, discarded, all: request.all }, 'dead letters discarded');
      return { discarded };
    }),
  };

  return {
    name: SERVICE_NAMES.deadLetterAdmin,
    protoFile: SERVICE_PROTO_FILES.deadLetterAdmin,
    definition: DeadLetterAdminServiceService,
    implementation,
    access: 'internal',
  };
}
