import { InvalidArgumentError, isE164, type Clock } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { OptOut, OptOutCursor, OptOutList, OptOutPage } from './opt-out-list';

/** ListOptOuts' page size when the caller gives none, and the most it accepts. */
export const DEFAULT_OPT_OUT_PAGE_SIZE = 100;
export const MAX_OPT_OUT_PAGE_SIZE = 500;
const MAX_PAGE_TOKEN_CHARS = 512;

/** The AddOptOut/RemoveOptOut/ListOptOuts use cases on the tenant's opt-out list. */
export interface OptOutService {
  add(tenant: Tenant, phoneNumber: string): Promise<OptOut>;
  remove(tenant: Tenant, phoneNumber: string): Promise<boolean>;
  list(tenant: Tenant, pageSize: number, pageToken: string): Promise<{ optOuts: readonly OptOut[]; nextPageToken: string }>;
}

function validatePhoneNumber(phoneNumber: string): void {
  if (!isE164(phoneNumber)) {
    throw new InvalidArgumentError([
      { field: 'phone_number', reason: 'INVALID_FORMAT', description: 'must be an E.164 number, e.g. +4915112345678' },
    ]);
  }
}

/** The page token: the last entry of the page before, opaque to callers (base64url JSON). */
export function encodePageToken(cursor: OptOutCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.getTime(), cursor.customer])).toString('base64url');
}

export function decodePageToken(token: string): OptOutCursor {
  const invalid = () =>
    new InvalidArgumentError([{ field: 'page_token', reason: 'INVALID', description: "must be a previous response's next_page_token" }]);
  if (token.length > MAX_PAGE_TOKEN_CHARS) throw invalid();
  try {
    const [atMs, customer] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof atMs !== 'number' || !Number.isSafeInteger(atMs) || typeof customer !== 'string' || !isE164(customer)) throw invalid();
    return { createdAt: new Date(atMs), customer };
  } catch {
    throw invalid();
  }
}

export function createOptOutService(deps: { optOuts: OptOutList; clock: Clock }): OptOutService {
  return {
    async add(tenant, phoneNumber) {
      validatePhoneNumber(phoneNumber);
      const { optOut } = await deps.optOuts.add({ tenantId: tenant.id, customer: phoneNumber, source: 'api', createdAt: deps.clock.now() });
      return optOut;
    },
    async remove(tenant, phoneNumber) {
      validatePhoneNumber(phoneNumber);
      return deps.optOuts.remove(tenant.id, phoneNumber);
    },
    async list(tenant, pageSize, pageToken) {
      if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_OPT_OUT_PAGE_SIZE) {
        throw new InvalidArgumentError([
          {
            field: 'page_size',
            reason: 'OUT_OF_RANGE',
            description: `must be 1-${MAX_OPT_OUT_PAGE_SIZE} (0 means ${DEFAULT_OPT_OUT_PAGE_SIZE})`,
          },
        ]);
      }
      const page: OptOutPage = await deps.optOuts.list(tenant.id, {
        limit: pageSize || DEFAULT_OPT_OUT_PAGE_SIZE,
        ...(pageToken ? { after: decodePageToken(pageToken) } : {}),
      });
      return { optOuts: page.optOuts, nextPageToken: page.next ? encodePageToken(page.next) : '' };
    },
  };
}
