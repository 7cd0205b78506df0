import { csvHeader, csvRow } from './csv-format';
import { toMessageRecord, type ExportConversation, type ExportEntry } from './export-record';
import { DEFAULT_CHUNK_BYTES, streamFile, type BundleChunk, type FileContent, type FileSummary } from './file-chunker';
import { htmlTranscriptEnd, htmlTranscriptMessage, htmlTranscriptStart } from './html-transcript';

/** The bundle's layout version, in the manifest; raised when a file's shape changes incompatibly. */
export const BUNDLE_FORMAT_VERSION = 1;

/** The kinds of file a bundle can hold, in the order they are written. */
export const EXPORT_FORMATS = ['jsonl', 'csv', 'html'] as const;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];

export const JSONL_PATH = 'messages.jsonl';
export const CSV_PATH = 'messages.csv';
export const MANIFEST_PATH = 'manifest.json';
/** The archive log's signed checkpoint (C2SP note) the bundle's proofs lead to. */
export const LOG_CHECKPOINT_PATH = 'log/checkpoint';
/** The region's verifier key, as the archive reported it (check it against one obtained independently). */
export const LOG_VERIFIER_KEY_PATH = 'log/verifier-key';
/** One line per record behind the exported messages: record id, leaf index, salt, canonical record bytes. */
export const LOG_RECORDS_PATH = 'log/records.jsonl';
/** One line per record: its entry, leaf hash and RFC 9162 audit path to the checkpoint's tree. */
export const LOG_PROOFS_PATH = 'log/proofs.jsonl';
/** transcripts/<conversation_id>.html */
export const transcriptPath = (conversationId: string): string => `transcripts/${conversationId}.html`;

/** What the export selected, as the request gave it (validated); written to the manifest. */
export interface ExportFilters {
  readonly conversationIds: readonly string[];
  readonly customer?: string;
  readonly phoneNumberId?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Never empty: an empty request means every format. */
  readonly formats: readonly ExportFormatName[];
}

/**
 * Where the bundle's messages come from. Both methods may be called again (each file is one pass over the source:
 * nothing is buffered between files) and each pass must read the same data in the same order.
 */
export interface ExportSource {
  /** The conversations to export, each once, in a stable order. */
  conversations(): AsyncIterable<ExportConversation>;
  /** One conversation's messages in the exported range, oldest first. */
  transcript(conversation: ExportConversation): AsyncIterable<ExportEntry>;
}

/** One record of an exported message with its inclusion proof (see ArchiveLogService.messageRecords). */
export interface BundleLogRecord {
  readonly recordId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly record: string;
  readonly entry: Buffer;
  readonly auditPath: readonly Buffer[];
  readonly salt?: Buffer;
}

/** The archive log as the bundle carries it: a checkpoint taken after the messages were read, and their records. */
export interface BundleLog {
  checkpoint(): Promise<{ readonly note: string; readonly treeSize: number; readonly verifierKey: string }>;
  /** The records of one exported message that are in the tree of `treeSize`. */
  records(entry: ExportEntry, treeSize: number): Promise<readonly BundleLogRecord[]>;
}

export interface BundleOptions {
  readonly tenantId: string;
  readonly exportedAt: Date;
  readonly filters: ExportFilters;
  /** Messages occurring at or after this time are not exported (the export's snapshot bound), when set. */
  readonly until?: Date;
  readonly source: ExportSource;
  /** Largest chunk; DEFAULT_CHUNK_BYTES (64 KiB) if not set. */
  readonly chunkBytes?: number;
  /** The tamper-evident archive log: when set, the bundle carries log/checkpoint, its proofs and records. */
  readonly log?: BundleLog;
}

/** manifest.json. */
export interface BundleManifest {
  readonly format_version: number;
  readonly tenant_id: string;
  readonly exported_at: string;
  readonly filters: {
    readonly conversation_ids: readonly string[];
    readonly customer: string | null;
    readonly phone_number_id: string | null;
    readonly from: string | null;
    readonly to: string | null;
    readonly formats: readonly ExportFormatName[];
  };
  /** Messages that occurred at or after this time were left out, so that every file shows the same messages. */
  readonly until: string | null;
  readonly conversations: number;
  readonly messages: number;
  /** Every other file of the bundle, in the order it was written. */
  readonly files: readonly FileSummary[];
}

// Conversation ids become file names: only what conversationIdOf produces (cv_ + base64url) may become a path.
const SAFE_CONVERSATION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Counts what one pass over the source saw (the first pass fills the manifest's totals). */
interface PassCounter {
  conversations: number;
  messages: number;
}

function jsonlContent(options: BundleOptions, counter: PassCounter): FileContent {
  return async function* (count) {
    for await (const conversation of options.source.conversations()) {
      counter.conversations++;
      for await (const entry of options.source.transcript(conversation)) {
        counter.messages++;
        count();
        yield `${JSON.stringify(toMessageRecord(conversation, entry))}\n`;
      }
    }
  };
}

function csvContent(options: BundleOptions, counter: PassCounter): FileContent {
  return async function* (count) {
    yield csvHeader();
    for await (const conversation of options.source.conversations()) {
      counter.conversations++;
      for await (const entry of options.source.transcript(conversation)) {
        counter.messages++;
        count();
        yield csvRow(toMessageRecord(conversation, entry));
      }
    }
  };
}

function htmlContent(options: BundleOptions, conversation: ExportConversation, counter: PassCounter): FileContent {
  const { filters } = options;
  return async function* (count) {
    yield htmlTranscriptStart(conversation, {
      tenantId: options.tenantId,
      exportedAt: options.exportedAt,
      ...(filters.from ? { from: filters.from } : {}),
      ...(filters.to ? { to: filters.to } : {}),
    });
    let messages = 0;
    for await (const entry of options.source.transcript(conversation)) {
      messages++;
      counter.messages++;
      count();
      yield htmlTranscriptMessage(toMessageRecord(conversation, entry));
    }
    yield htmlTranscriptEnd(messages);
  };
}

/** log/records.jsonl or log/proofs.jsonl: one pass over the source, each message's records in the checkpoint's tree. */
function logContent(options: BundleOptions, log: BundleLog, treeSize: number, line: (record: BundleLogRecord) => object): FileContent {
  return async function* (count) {
    const seen = new Set<string>();
    for await (const conversation of options.source.conversations())
      for await (const entry of options.source.transcript(conversation))
        for (const record of await log.records(entry, treeSize)) {
          if (seen.has(record.recordId)) continue;
          seen.add(record.recordId);
          count();
          yield `${JSON.stringify(line(record))}\n`;
        }
  };
}

const recordLine = (record: BundleLogRecord) => ({
  record_id: record.recordId,
  leaf_index: record.leafIndex,
  salt: record.salt ? record.salt.toString('base64') : null,
  record: record.record,
});

const proofLine = (record: BundleLogRecord) => ({
  record_id: record.recordId,
  leaf_index: record.leafIndex,
  tree_size: record.treeSize,
  entry: record.entry.toString('hex'),
  audit_path: record.auditPath.map((hash) => hash.toString('base64')),
});

/** Streams one file, collecting its summary. */
async function* file(path: string, content: FileContent, chunkBytes: number, summaries: FileSummary[]): AsyncGenerator<BundleChunk> {
  summaries.push(yield* streamFile(path, content, chunkBytes));
}

/**
 * The export bundle as a sequence of chunks: messages.jsonl, messages.csv, one transcripts/<conversation_id>.html
 * per conversation (each only if its format was asked for), then manifest.json with every file's SHA-256, size and
 * record count. Each file is a fresh pass over the source and is never held whole: memory is one chunk, one message
 * and the manifest's list of files (about 150 bytes per conversation with HTML). Pulled by the consumer: the source
 * is read only as fast as the consumer takes chunks (backpressure), and when the consumer stops iterating (a
 * cancelled call) the source's iterators are closed, so the store is not read any further.
 */
export async function* writeBundle(options: BundleOptions): AsyncGenerator<BundleChunk> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(chunkBytes > 0)) throw new RangeError('chunkBytes must be positive');
  const formats = new Set(options.filters.formats);
  const summaries: FileSummary[] = [];
  // The totals are taken from the first pass; every pass reads the same messages.
  let totals: PassCounter | undefined;
  const pass = (): PassCounter => {
    const counter = { conversations: 0, messages: 0 };
    totals ??= counter;
    return counter;
  };

  if (formats.has('jsonl')) yield* file(JSONL_PATH, jsonlContent(options, pass()), chunkBytes, summaries);
  if (formats.has('csv')) yield* file(CSV_PATH, csvContent(options, pass()), chunkBytes, summaries);
  if (formats.has('html')) {
    const counter = pass();
    for await (const conversation of options.source.conversations()) {
      if (!SAFE_CONVERSATION_ID.test(conversation.conversationId)) throw new Error('a conversation id is not a safe file name');
      counter.conversations++;
      yield* file(transcriptPath(conversation.conversationId), htmlContent(options, conversation, counter), chunkBytes, summaries);
    }
  }

  if (options.log) {
    // Taken after the messages were read: every record they show is in this tree.
    const checkpoint = await options.log.checkpoint();
    const text = (value: string): FileContent =>
      async function* () {
        yield value;
      };
    yield* file(LOG_CHECKPOINT_PATH, text(checkpoint.note), chunkBytes, summaries);
    yield* file(LOG_VERIFIER_KEY_PATH, text(`${checkpoint.verifierKey}\n`), chunkBytes, summaries);
    yield* file(LOG_RECORDS_PATH, logContent(options, options.log, checkpoint.treeSize, recordLine), chunkBytes, summaries);
    yield* file(LOG_PROOFS_PATH, logContent(options, options.log, checkpoint.treeSize, proofLine), chunkBytes, summaries);
  }

  const { filters } = options;
  const manifest: BundleManifest = {
    format_version: BUNDLE_FORMAT_VERSION,
    tenant_id: options.tenantId,
    exported_at: options.exportedAt.toISOString(),
    filters: {
      conversation_ids: filters.conversationIds,
      customer: filters.customer ?? null,
      phone_number_id: filters.phoneNumberId ?? null,
      from: filters.from?.toISOString() ?? null,
      to: filters.to?.toISOString() ?? null,
      formats: EXPORT_FORMATS.filter((format) => formats.has(format)),
    },
    until: options.until?.toISOString() ?? null,
    conversations: totals?.conversations ?? 0,
    messages: totals?.messages ?? 0,
    files: summaries,
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  yield* streamFile(
    MANIFEST_PATH,
    async function* () {
      yield text;
    },
    chunkBytes,
  );
}
