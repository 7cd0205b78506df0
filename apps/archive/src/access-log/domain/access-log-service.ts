import {
  decodePageTokenFields,
  encodePageTokenFields,
  InvalidArgumentError,
  requestFingerprint,
  type FieldViolation,
} from '@waygate/domain';
import { accessLogLeafHash, type AccessLogEntry, type RecordedAccessLogEntry } from './access-log-entry';
import type { AccessLogStore } from './access-log-store';

/** ListAccessLog as the handler hands it over: absent values and empty strings do not filter. */
export interface ListAccessLogInput {
  readonly from?: Date;
  readonly to?: Date;
  readonly action: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** One page of a tenant's access log with the signed checkpoint that covers it. */
export interface AccessLogPage {
  readonly entries: readonly RecordedAccessLogEntry[];
  readonly nextPageToken: string;
  /** The C2SP signed checkpoint of the tenant's access log at the time of the call; covers every listed entry. */
  readonly checkpoint: string;
}

/** Signs a checkpoint of a tenant's access log (libs/tlog: the C2SP format, the region's Ed25519 key). */
export type AccessLogCheckpointSigner = (tenantId: string, size: number, rootHash: Buffer) => string;

/** The access log: recording calls, listing them, and proving the list by a signed checkpoint. */
export interface AccessLog {
  /** Appends an entry to its tenant's log; durable when it resolves. */
  record(entry: AccessLogEntry): Promise<RecordedAccessLogEntry>;
  /** A page of the tenant's log, oldest first, with the signed checkpoint. INVALID_ARGUMENT for bad filters. */
  list(tenantId: string, input: ListAccessLogInput): Promise<AccessLogPage>;
  /** The tenant's current tree size, root hash and signed checkpoint. */
  checkpoint(tenantId: string): Promise<{ size: number; rootHash: Buffer; checkpoint: string }>;
}

export const DEFAULT_ACCESS_LOG_PAGE_SIZE = 100;
export const MAX_ACCESS_LOG_PAGE_SIZE = 1000;
const PAGE_TOKEN_PREFIX = 'al1.';
const MAX_PAGE_TOKEN_CHARS = 512;
const ACTION = /^[a-z][a-zA-Z]{0,39}\.[A-Z][A-Za-z]{0,79}$/;

/** Creates the access log over its store. */
export function createAccessLog(deps: { store: AccessLogStore; signCheckpoint: AccessLogCheckpointSigner }): AccessLog {
  const { store, signCheckpoint } = deps;

  async function checkpoint(tenantId: string) {
    const { size, rootHash } = await store.treeHead(tenantId);
    return { size, rootHash, checkpoint: signCheckpoint(tenantId, size, rootHash) };
  }

  return {
    record: (entry) => store.append(entry, accessLogLeafHash(entry)),
    checkpoint,
    async list(tenantId, input) {
      const violations: FieldViolation[] = [];
      const pageSize = input.pageSize === 0 ? DEFAULT_ACCESS_LOG_PAGE_SIZE : input.pageSize;
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_ACCESS_LOG_PAGE_SIZE)
        violations.push({
          field: 'page_size',
          reason: 'OUT_OF_RANGE',
          description: `must be 1-${MAX_ACCESS_LOG_PAGE_SIZE} (0: ${DEFAULT_ACCESS_LOG_PAGE_SIZE})`,
        });
      if (input.action && !ACTION.test(input.action))
        violations.push({
          field: 'action',
          reason: 'INVALID_FORMAT',
          description: 'must be <service>.<Method>, e.g. archive.SearchMessages',
        });
      for (const [field, value] of [['from', input.from] as const, ['to', input.to] as const])
        if (value && Number.isNaN(value.getTime()))
          violations.push({ field, reason: 'INVALID_FORMAT', description: 'must be a valid time' });
      if (input.from && input.to && !(input.from.getTime() < input.to.getTime()))
        violations.push({ field: 'to', reason: 'INVALID_RANGE', description: 'must be after from' });
      const fingerprint = requestFingerprint([tenantId, input.from?.toISOString() ?? '', input.to?.toISOString() ?? '', input.action]);
      let afterIndex: number | undefined;
      if (input.pageToken) {
        const fields = decodePageTokenFields(input.pageToken, { maxChars: MAX_PAGE_TOKEN_CHARS, prefix: PAGE_TOKEN_PREFIX });
        const index = fields?.['i'];
        if (!fields || fields['f'] !== fingerprint || typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
          violations.push({ field: 'page_token', reason: 'INVALID_FORMAT', description: 'is not a page token of this listing' });
        else afterIndex = index;
      }
      if (violations.length > 0) throw new InvalidArgumentError(violations);

      // The checkpoint first: the page lists only entries it covers, so each listed leaf is provably in its tree.
      const signed = await checkpoint(tenantId);
      const rows = await store.list({
        tenantId,
        ...(input.from ? { from: input.from } : {}),
        ...(input.to ? { to: input.to } : {}),
        ...(input.action ? { action: input.action } : {}),
        ...(afterIndex !== undefined ? { afterIndex } : {}),
        beforeIndex: signed.size,
        limit: pageSize + 1,
      });
      const entries = rows.slice(0, pageSize);
      const last = entries.at(-1);
      const nextPageToken =
        rows.length > pageSize && last ? encodePageTokenFields({ i: last.index, f: fingerprint }, PAGE_TOKEN_PREFIX) : '';
      return { entries, nextPageToken, checkpoint: signed.checkpoint };
    },
  };
}
