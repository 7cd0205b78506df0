import { idViolations, InvalidArgumentError, isE164, NotFoundError, type Clock, type FieldViolation } from '@waygate/domain';
import {
  EXPORT_FORMATS,
  writeBundle,
  type BundleLogRecord,
  type ExportFilters,
  type ExportFormatName,
  type ExportSource,
} from './export-bundle';
import type { ExportConversation, ExportEntry } from './export-record';
import type { BundleChunk } from './file-chunker';

/** Most conversations one request may name. */
export const MAX_EXPORT_CONVERSATION_IDS = 1000;

/** A time range: from inclusive, to exclusive; either end open. */
export interface ExportRange {
  readonly from?: Date;
  readonly to?: Date;
}

/**
 * What the export reads: the core's read API (ArchiveStore's getConversation, conversations and transcript),
 * tenant-scoped, each iterable read in bounded pages and iterable again.
 */
export interface ExportReader {
  getConversation(tenantId: string, conversationId: string): Promise<ExportConversation | undefined>;
  /** The tenant's conversations matching the filter (a message in the range), in a stable order. */
  conversations(
    tenantId: string,
    filter: { readonly customer?: string; readonly phoneNumberId?: string } & ExportRange,
  ): AsyncIterable<ExportConversation>;
  /** One conversation's messages in the range, oldest first. */
  transcript(tenantId: string, conversationId: string, range: ExportRange): AsyncIterable<ExportEntry>;
}

/** An export request as the handler translated it (formats by name; an unknown one as whatever the client sent). */
export interface ExportRequest {
  readonly conversationIds: readonly string[];
  /** Empty: any. */
  readonly customer: string;
  /** Empty: any. */
  readonly phoneNumberId: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Empty: every format. */
  readonly formats: readonly string[];
}

const isFormat = (value: string): value is ExportFormatName => (EXPORT_FORMATS as readonly string[]).includes(value);

/**
 * The request's filters, or InvalidArgumentError listing every bad field (descriptions never quote the values): at
 * most 1000 conversation ids, each a valid id; an E.164 customer; a valid phone number id; from before to; known
 * formats.
 */
export function validateExportRequest(request: ExportRequest): ExportFilters {
  const violations: FieldViolation[] = [];
  if (request.conversationIds.length > MAX_EXPORT_CONVERSATION_IDS)
    violations.push({
      field: 'conversation_ids',
      reason: 'TOO_MANY',
      description: `at most ${MAX_EXPORT_CONVERSATION_IDS} conversations per export`,
    });
  else request.conversationIds.forEach((id, index) => violations.push(...idViolations(`conversation_ids[${index}]`, id)));
  if (request.customer && !isE164(request.customer))
    violations.push({ field: 'customer', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
  if (request.phoneNumberId) violations.push(...idViolations('phone_number_id', request.phoneNumberId));
  for (const [field, value] of [
    ['from', request.from],
    ['to', request.to],
  ] as const)
    if (value && Number.isNaN(value.getTime())) violations.push({ field, reason: 'INVALID_FORMAT', description: 'must be a valid time' });
  if (request.from && request.to && !(request.from.getTime() < request.to.getTime()))
    violations.push({ field: 'to', reason: 'INVALID_RANGE', description: 'must be after from' });
  request.formats.forEach((format, index) => {
    if (!isFormat(format))
      violations.push({ field: `formats[${index}]`, reason: 'INVALID_VALUE', description: 'must be JSONL, CSV or HTML' });
  });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  const formats = request.formats.length === 0 ? EXPORT_FORMATS : EXPORT_FORMATS.filter((format) => request.formats.includes(format));
  return {
    conversationIds: [...new Set(request.conversationIds)],
    ...(request.customer ? { customer: request.customer } : {}),
    ...(request.phoneNumberId ? { phoneNumberId: request.phoneNumberId } : {}),
    ...(request.from ? { from: request.from } : {}),
    ...(request.to ? { to: request.to } : {}),
    formats,
  };
}

export interface ExportService {
  /**
   * Validates the request and resolves its explicit conversations (NOT_FOUND for one the tenant does not have, before
   * anything is streamed), then returns the bundle's chunks, produced as they are pulled (see writeBundle).
   */
  exportBundle(tenantId: string, request: ExportRequest, options?: { chunkBytes?: number }): Promise<AsyncIterable<BundleChunk>>;
}

/** The archive log as the export reads it (ArchiveLogService): bundles then carry a checkpoint and their proofs. */
export interface ExportLogReader {
  checkpoint(tenantId: string): Promise<{ readonly note: string; readonly treeSize: number }>;
  publicKey(tenantId: string): { readonly verifierKey: string };
  messageRecords(tenantId: string, messageId: string, treeSize: number): Promise<readonly BundleLogRecord[]>;
}

export interface ExportServiceDeps {
  readonly reader: ExportReader;
  readonly clock: Clock;
  /** When set, every bundle carries the log's checkpoint and the inclusion proofs of its records. */
  readonly log?: ExportLogReader;
}

export function createExportService({ reader, clock, log }: ExportServiceDeps): ExportService {
  /**
   * The ids of the conversations to export, listed once so that every file covers the same conversations in the same
   * order. The store lists most recently active first and pages by that order: a conversation that gets a message
   * while the listing runs jumps ahead of the cursor and can be missed. It then has a message at or after `until`,
   * so a second listing of the conversations active since then finds it. Memory: one id per conversation (about
   * 80 bytes), never messages.
   */
  async function listConversationIds(tenantId: string, filters: ExportFilters, range: ExportRange & { to: Date }): Promise<string[]> {
    const keys = {
      ...(filters.customer ? { customer: filters.customer } : {}),
      ...(filters.phoneNumberId ? { phoneNumberId: filters.phoneNumberId } : {}),
    };
    const ids = new Set<string>();
    for await (const conversation of reader.conversations(tenantId, { ...keys, ...range })) ids.add(conversation.conversationId);
    for await (const conversation of reader.conversations(tenantId, { ...keys, from: range.to }))
      if (!conversation.firstMessageAt || conversation.firstMessageAt.getTime() < range.to.getTime()) ids.add(conversation.conversationId);
    return [...ids];
  }

  return {
    async exportBundle(tenantId, request, options = {}) {
      const filters = validateExportRequest(request);
      const exportedAt = clock.now();
      // Each file re-reads the store: messages archived while the export runs would appear in one file and not in
      // another. Bounding the range at the export's start keeps the files in step (statuses arriving meanwhile can
      // still differ between files).
      const until = filters.to && filters.to.getTime() <= exportedAt.getTime() ? filters.to : exportedAt;
      const range = { ...(filters.from ? { from: filters.from } : {}), to: until };
      const matches = (conversation: ExportConversation) =>
        (!filters.customer || conversation.customer === filters.customer) &&
        (!filters.phoneNumberId || conversation.phoneNumberId === filters.phoneNumberId);

      const conversationIds =
        filters.conversationIds.length > 0 ? filters.conversationIds : await listConversationIds(tenantId, filters, range);
      if (filters.conversationIds.length > 0)
        for (const id of conversationIds) if (!(await reader.getConversation(tenantId, id))) throw new NotFoundError('conversation', id);
      const source: ExportSource = {
        async *conversations() {
          for (const id of conversationIds) {
            const conversation = await reader.getConversation(tenantId, id);
            if (conversation && matches(conversation)) yield conversation;
          }
        },
        transcript: (conversation) => reader.transcript(tenantId, conversation.conversationId, range),
      };
      return writeBundle({
        tenantId,
        exportedAt,
        filters,
        until,
        source,
        ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
        ...(log
          ? {
              log: {
                checkpoint: async () => ({ ...(await log.checkpoint(tenantId)), verifierKey: log.publicKey(tenantId).verifierKey }),
                records: (entry, treeSize) => log.messageRecords(tenantId, entry.messageId, treeSize),
              },
            }
          : {}),
      });
    },
  };
}
