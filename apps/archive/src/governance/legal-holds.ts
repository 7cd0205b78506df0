import { randomBytes } from 'node:crypto';
import {
  decodePageTokenFields,
  encodePageTokenFields,
  InvalidArgumentError,
  isE164,
  NotFoundError,
  requestFingerprint,
  UnavailableError,
  type Clock,
  type FieldViolation,
} from '@waygate/domain';
import type { LegalHold, LegalHoldCursor, LegalHoldStore } from './domain/legal-hold';

/** Longest matter name. */
export const MAX_MATTER_CHARS = 200;
/** Default and largest ListLegalHolds page. */
export const DEFAULT_HOLDS_PAGE_SIZE = 50;
export const MAX_HOLDS_PAGE_SIZE = 500;
const MAX_PAGE_TOKEN_CHARS = 512;
const PAGE_TOKEN_PREFIX = 'lh1.';
const HOLD_ID_PATTERN = /^lh_[0-9a-f]{26}$/;
// Control characters (C0, DEL, C1) and line/paragraph separators: a matter is shown in errors and logs on one line.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A new hold id: `lh_` + 12 hex of the time in ms + 14 random hex (26 characters), sorting by placing time. */
export function newLegalHoldId(now: Date): string {
  return `lh_${now.getTime().toString(16).padStart(12, '0')}${randomBytes(7).toString('hex')}`;
}

/** A ListLegalHolds request, as the domain takes it. */
export interface ListLegalHoldsQuery {
  readonly customer: string;
  readonly includeReleased: boolean;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** The legal holds of the region's tenants: placing, releasing, listing, and the question erasure and retention ask. */
export interface LegalHolds {
  /**
   * Places a hold on `customer` (E.164 with `+`; `''` for the whole tenant) for `matter`. The same matter and scope
   * while a hold is active returns that hold (`created: false`). InvalidArgumentError naming each bad field.
   */
  place(
    tenantId: string,
    request: { readonly matter: string; readonly customer: string },
    placedBy: string,
  ): Promise<{ hold: LegalHold; created: boolean }>;
  /** Releases a hold; releasing a released hold returns it unchanged. NotFoundError for an id the tenant does not have. */
  release(tenantId: string, holdId: string, releasedBy: string): Promise<LegalHold>;
  /** One page of the tenant's holds: active first, newest first. */
  list(tenantId: string, query: ListLegalHoldsQuery): Promise<{ holds: LegalHold[]; nextPageToken: string }>;
  /**
   * The active holds covering one customer of a tenant: the customer's own and the tenant-wide ones, newest first
   * (empty: nothing holds it). `customer` is E.164 with `+`; `''` asks for the tenant-wide holds only. Erasure refuses
   * (FAILED_PRECONDITION naming the holds) when this is not empty; the sweeper skips what it covers.
   */
  activeHoldsCovering(tenantId: string, customer: string): Promise<LegalHold[]>;
  /** Every active hold of every tenant (the sweeper and the hold mirror read them once per pass). */
  allActive(): Promise<LegalHold[]>;
  /** Erasure: released holds placed on `customer` name `customerRef` instead (LegalHoldStore.pseudonymiseCustomer). */
  pseudonymiseReleased(tenantId: string, customer: string, customerRef: string): Promise<number>;
}

/** What the legal holds need. */
export interface LegalHoldsDeps {
  readonly store: LegalHoldStore;
  readonly clock: Clock;
  /**
   * Awaited after every place and release, also one that changed nothing (mirrors the tenant's active holds to
   * media-store). Its failure fails the call with UNAVAILABLE: the hold is recorded, and calling again (idempotent)
   * mirrors it again.
   */
  readonly afterChange?: (tenantId: string) => Promise<void>;
}

function matterViolations(matter: string): FieldViolation[] {
  if (matter.trim().length === 0) return [{ field: 'matter', reason: 'REQUIRED', description: 'must be set' }];
  if ([...matter].length > MAX_MATTER_CHARS) {
    return [{ field: 'matter', reason: 'TOO_LONG', description: `must be at most ${MAX_MATTER_CHARS} characters` }];
  }
  if (CONTROL_CHARACTERS.test(matter))
    return [{ field: 'matter', reason: 'INVALID_FORMAT', description: 'must not contain control characters' }];
  return [];
}

function customerViolations(customer: string): FieldViolation[] {
  return customer === '' || isE164(customer)
    ? []
    : [{ field: 'customer', reason: 'INVALID_FORMAT', description: 'must be a phone number in E.164 form (+ and 8-15 digits), or empty' }];
}

function malformedToken(description = 'is not a page token of this request'): InvalidArgumentError {
  return new InvalidArgumentError([{ field: 'page_token', reason: 'INVALID_FORMAT', description }]);
}

function decodeCursor(token: string, fingerprint: string): LegalHoldCursor {
  const fields = decodePageTokenFields(token, { maxChars: MAX_PAGE_TOKEN_CHARS, prefix: PAGE_TOKEN_PREFIX });
  if (!fields) throw malformedToken();
  const { f, r, i } = fields;
  if ((r !== 0 && r !== 1) || typeof i !== 'string' || !HOLD_ID_PATTERN.test(i)) throw malformedToken();
  if (f !== fingerprint) throw malformedToken('belongs to a request with other filters');
  return { released: r === 1, holdId: i };
}

/** The legal holds over their store. */
export function createLegalHolds(deps: LegalHoldsDeps): LegalHolds {
  const { store, clock } = deps;
  const changed = async (tenantId: string) => {
    try {
      await deps.afterChange?.(tenantId);
    } catch (error) {
      throw new UnavailableError('the legal hold is recorded, but could not be passed on to every service yet; call again', {
        cause: error,
      });
    }
  };
  return {
    async place(tenantId, request, placedBy) {
      const violations = [...matterViolations(request.matter), ...customerViolations(request.customer)];
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const placedAt = clock.now();
      const result = await store.place({
        holdId: newLegalHoldId(placedAt),
        tenantId,
        matter: request.matter,
        customer: request.customer,
        placedAt,
        placedBy,
      });
      await changed(tenantId);
      return result;
    },

    async release(tenantId, holdId, releasedBy) {
      if (holdId.length === 0) throw new InvalidArgumentError([{ field: 'hold_id', reason: 'REQUIRED', description: 'must be set' }]);
      // A malformed id cannot be a hold: NOT_FOUND like an unknown one (never quoting more than the domain error does).
      if (!HOLD_ID_PATTERN.test(holdId)) throw new NotFoundError('legal hold', holdId);
      const before = await store.get(tenantId, holdId);
      if (!before) throw new NotFoundError('legal hold', holdId);
      const released = before.releasedAt ? before : await store.release(tenantId, holdId, clock.now(), releasedBy);
      if (!released) throw new NotFoundError('legal hold', holdId);
      await changed(tenantId);
      return released;
    },

    async list(tenantId, query) {
      const violations = customerViolations(query.customer);
      if (query.pageSize < 0 || query.pageSize > MAX_HOLDS_PAGE_SIZE) {
        violations.push({
          field: 'page_size',
          reason: 'OUT_OF_RANGE',
          description: `must be 0 (default ${DEFAULT_HOLDS_PAGE_SIZE}) to ${MAX_HOLDS_PAGE_SIZE}`,
        });
      }
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const fingerprint = requestFingerprint({ tenantId, customer: query.customer, includeReleased: query.includeReleased });
      const after = query.pageToken === '' ? undefined : decodeCursor(query.pageToken, fingerprint);
      const limit = query.pageSize === 0 ? DEFAULT_HOLDS_PAGE_SIZE : query.pageSize;
      // One more than the page tells whether there is a next page.
      const rows = await store.list(tenantId, {
        ...(query.customer === '' ? {} : { customer: query.customer }),
        includeReleased: query.includeReleased,
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const holds = rows.slice(0, limit);
      const last = holds.at(-1);
      const nextPageToken =
        rows.length > limit && last
          ? encodePageTokenFields({ f: fingerprint, r: last.releasedAt ? 1 : 0, i: last.holdId }, PAGE_TOKEN_PREFIX)
          : '';
      return { holds, nextPageToken };
    },

    activeHoldsCovering: (tenantId, customer) => store.activeCovering(tenantId, customer),
    allActive: () => store.allActive(),
    pseudonymiseReleased: (tenantId, customer, customerRef) => store.pseudonymiseCustomer(tenantId, customer, customerRef),
  };
}
