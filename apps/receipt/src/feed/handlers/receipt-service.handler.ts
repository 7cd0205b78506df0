import { UnavailableError } from '@waygate/domain';
import { serverStreamingHandler, unaryHandler } from '@waygate/grpc';
import {
  TenantEvent as TenantEventMessage,
  type DeadLetter,
  type ListDeadLettersRequest,
  type ListDeadLettersResponse,
  type ReceiptServiceServer,
  type ReplayDeadLettersRequest,
  type ReplayDeadLettersResponse,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { DeadLetters } from '../domain/dead-letters';
import { parseWatchRequest, watchEvents } from '../domain/event-watch';
import type { FeedWakeups } from '../domain/feed-wakeups';
import type { CallbackDelivery, TenantFeedStore } from '../domain/feed-store';
import { eventTypeName, toProtoTenantEvent } from './tenant-event-wire';

function toProtoDeadLetter(delivery: CallbackDelivery): DeadLetter {
  return {
    endpointId: delivery.endpointId,
    // The stored body is the event's proto3 JSON: it parses back into the same message.
    event: TenantEventMessage.fromJSON(JSON.parse(delivery.body)),
    attempts: delivery.attempts,
    lastError: delivery.lastError ?? '',
    queuedAt: delivery.queuedAt,
    deadAt: delivery.deadAt,
  };
}

/**
 * gRPC ReceiptService: translates proto <-> domain. Calls arriving after `stopping` aborted are UNAVAILABLE, and
 * open WatchEvents streams end (with OK) when it aborts.
 */
export function createReceiptServiceHandler(deps: {
  store: TenantFeedStore;
  wakeups: FeedWakeups;
  recheckMs: number;
  deadLetters: DeadLetters;
  tenants: TenantDirectory;
  logger: Logger;
  stopping: AbortSignal;
}): ReceiptServiceServer {
  const { store, wakeups, recheckMs, deadLetters, tenants, logger, stopping } = deps;
  const refuseWhenStopping = () => {
    if (stopping.aborted) throw new UnavailableError('receipt is shutting down; retry on another replica');
  };
  return {
    watchEvents: serverStreamingHandler<WatchEventsRequest, WatchEventsResponse>(tenants, logger, async (request, tenant, stream) => {
      refuseWhenStopping();
      const parsed = parseWatchRequest({
        afterSequence: request.afterSequence,
        messageIds: request.messageIds,
        recipients: request.recipients,
        eventTypes: request.eventTypes.map(eventTypeName),
      });
      await watchEvents(
        { store, wakeups, recheckMs },
        tenant.id,
        parsed,
        { write: (event) => stream.write({ event: toProtoTenantEvent(event) }) },
        AbortSignal.any([stream.signal, stopping]),
      );
    }),
    listDeadLetters: unaryHandler<ListDeadLettersRequest, ListDeadLettersResponse>(tenants, logger, async (request, tenant) => {
      refuseWhenStopping();
      const page = await deadLetters.list(tenant, request);
      return { deadLetters: page.deadLetters.map(toProtoDeadLetter), nextPageToken: page.nextPageToken };
    }),
    replayDeadLetters: unaryHandler<ReplayDeadLettersRequest, ReplayDeadLettersResponse>(tenants, logger, async (request, tenant) => {
      refuseWhenStopping();
      return { replayed: await deadLetters.replay(tenant, request) };
    }),
  };
}
