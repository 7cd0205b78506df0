import {
  idViolations,
  InvalidArgumentError,
  MAX_WHATSAPP_ID_LENGTH,
  NotFoundError,
  type Clock,
  type FieldViolation,
} from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { CallbackDelivery, TenantFeedStore } from './feed-store';

export const DEFAULT_DEAD_LETTER_PAGE = 50;
export const MAX_DEAD_LETTER_PAGE = 500;
export const MAX_REPLAY_IDS = 1000;
/** Event ids embed WhatsApp's ids (`wa:<wamid>:read`), so they are bounded like those. */
const MAX_EVENT_ID_LENGTH = MAX_WHATSAPP_ID_LENGTH;
/** Our tokens are base64url of a short JSON position; anything much longer is not one of ours. */
const MAX_PAGE_TOKEN_LENGTH = 1024;

export interface DeadLetterPage {
  readonly deadLetters: CallbackDelivery[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export interface DeadLetters {
  list(tenant: Tenant, request: { endpointId: string; pageSize: number; pageToken: string }): Promise<DeadLetterPage>;
  replay(tenant: Tenant, request: { endpointId: string; eventIds: readonly string[]; all: boolean }): Promise<number>;
}

interface PagePosition {
  readonly endpointId: string;
  readonly sequence: number;
}

function encodePageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify({ e: position.endpointId, s: position.sequence }), 'utf8').toString('base64url');
}

function decodePageToken(token: string): PagePosition | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { e?: unknown; s?: unknown };
    if (typeof parsed.e === 'string' && Number.isSafeInteger(parsed.s)) return { endpointId: parsed.e, sequence: parsed.s as number };
  } catch {
    // Reported below.
  }
  return undefined;
}

function assertEndpoint(tenant: Tenant, endpointId: string): void {
  // Another tenant's endpoint id is as unknown as a made-up one.
  if (!tenant.callbacks.some((endpoint) => endpoint.id === endpointId)) throw new NotFoundError('callback endpoint', endpointId);
}

/** The tenant's view of callback deliveries that were given up on, and putting them back into delivery. */
export function createDeadLetters(deps: { store: TenantFeedStore; clock: Clock; notify: (tenantId: string) => void }): DeadLetters {
  const { store, clock, notify } = deps;
  return {
    async list(tenant, request) {
      const violations: FieldViolation[] = [];
      if (!Number.isInteger(request.pageSize) || request.pageSize < 0 || request.pageSize > MAX_DEAD_LETTER_PAGE) {
        violations.push({ field: 'page_size', reason: 'OUT_OF_RANGE', description: `must be 0 to ${MAX_DEAD_LETTER_PAGE}` });
      }
      const after = request.pageToken && request.pageToken.length <= MAX_PAGE_TOKEN_LENGTH ? decodePageToken(request.pageToken) : undefined;
      if (request.pageToken && !after)
        violations.push({ field: 'page_token', reason: 'INVALID', description: 'is not a token from ListDeadLetters' });
      if (request.endpointId) violations.push(...idViolations('endpoint_id', request.endpointId));
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      if (request.endpointId) assertEndpoint(tenant, request.endpointId);
      const limit = request.pageSize || DEFAULT_DEAD_LETTER_PAGE;
      // One more than asked tells whether another page exists.
      const found = await store.listDeadLetters(tenant.id, {
        ...(request.endpointId ? { endpointId: request.endpointId } : {}),
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const page = found.slice(0, limit);
      const last = page.at(-1);
      return {
        deadLetters: page,
        nextPageToken: found.length > limit && last ? encodePageToken({ endpointId: last.endpointId, sequence: last.sequence }) : '',
      };
    },

    async replay(tenant, request) {
      const violations: FieldViolation[] = [];
      violations.push(...idViolations('endpoint_id', request.endpointId));
      if (request.all && request.eventIds.length > 0) {
        violations.push({ field: 'event_ids', reason: 'CONFLICT', description: 'must be empty when all is set' });
      }
      if (!request.all && request.eventIds.length === 0) {
        violations.push({ field: 'event_ids', reason: 'REQUIRED', description: 'name dead letters to replay, or set all' });
      }
      if (request.eventIds.length > MAX_REPLAY_IDS) {
        violations.push({ field: 'event_ids', reason: 'TOO_MANY', description: `at most ${MAX_REPLAY_IDS} ids` });
      }
      request.eventIds
        .slice(0, MAX_REPLAY_IDS)
        .forEach((id, index) => violations.push(...idViolations(`event_ids[${index}]`, id, MAX_EVENT_ID_LENGTH)));
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      assertEndpoint(tenant, request.endpointId);
      const replayed = await store.replayDeadLetters(
        tenant.id,
        request.endpointId,
        request.all ? 'all' : [...new Set(request.eventIds)],
        clock.now(),
      );
      // The endpoint's lane wakes and delivers them.
      if (replayed > 0) notify(tenant.id);
      return replayed;
    },
  };
}
