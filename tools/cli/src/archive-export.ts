import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { ChannelCredentials, Metadata } from '@grpc/grpc-js';
import { ArchiveServiceClient, ExportConversationsRequest, ExportFormat, type ExportConversationsResponse } from '@waygate/proto';
import { option, UsageError, type ParsedArgs } from './cli-args';
import { isBundlePath, MAX_MANIFEST_BYTES, verifyBundle } from './bundle-verify';

const FORMATS: Record<string, ExportFormat> = {
  jsonl: ExportFormat.EXPORT_FORMAT_JSONL,
  csv: ExportFormat.EXPORT_FORMAT_CSV,
  html: ExportFormat.EXPORT_FORMAT_HTML,
};

/** How the export reaches the archive and reports. */
export interface ArchiveExportContext {
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly metadata: () => Metadata;
  readonly print: (human: string, json: unknown) => void;
}

function time(args: ParsedArgs, name: 'from' | 'to'): Date | undefined {
  const value = option(args, name);
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO 8601 time`);
  return date;
}

/** The request from the command line: --customer, --phone-number-id, --from, --to, --conversation..., --format... */
export function exportRequestOf(args: ParsedArgs): ExportConversationsRequest {
  const formats = (args.options.get('format') ?? []).flatMap((value) => value.split(',')).filter(Boolean);
  return ExportConversationsRequest.fromPartial({
    conversationIds: args.options.get('conversation') ?? [],
    customer: option(args, 'customer') ?? '',
    phoneNumberId: option(args, 'phone-number-id') ?? '',
    from: time(args, 'from'),
    to: time(args, 'to'),
    formats: formats.map((format) => {
      const value = FORMATS[format.toLowerCase()];
      if (value === undefined) throw new UsageError(`--format ${format}: must be jsonl, csv or html`);
      return value;
    }),
  });
}

/** The output directory: new, or existing and empty. Anything in it would be mixed with, or lost to, the bundle. */
function checkOutputDirectory(out: string): void {
  let stat;
  try {
    stat = statSync(out);
  } catch {
    return;
  }
  if (!stat.isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory`);
  if (readdirSync(out).length > 0) throw new UsageError(`--out ${out} is not empty: refusing to overwrite; choose a new directory`);
}

/** One file being received: written with backpressure, hashed as it arrives. */
interface OpenFile {
  readonly path: string;
  readonly stream: WriteStream;
  readonly hash: ReturnType<typeof createHash>;
  bytes: number;
}

async function closeFile(file: OpenFile): Promise<void> {
  file.stream.end();
  await once(file.stream, 'close');
}

/**
 * Receives the bundle into `staging`: each chunk is written before the next one is read (the gRPC stream is pulled,
 * so a slow disk slows the server), paths are checked before anything is written, files come one after another.
 */
async function receiveBundle(responses: AsyncIterable<ExportConversationsResponse>, staging: string): Promise<string[]> {
  const received = new Set<string>();
  let open: OpenFile | undefined;
  try {
    for await (const chunk of responses) {
      if (!open) {
        if (!isBundlePath(chunk.path)) throw new Error('the server sent a file path a bundle cannot have');
        if (received.has(chunk.path)) throw new Error(`the server sent ${chunk.path} twice`);
        received.add(chunk.path);
        const file = path.join(staging, chunk.path);
        mkdirSync(path.dirname(file), { recursive: true });
        const stream = createWriteStream(file, { flags: 'wx' });
        open = { path: chunk.path, stream, hash: createHash('sha256'), bytes: 0 };
      } else if (chunk.path !== open.path) throw new Error(`the server started ${chunk.path} before ending ${open.path}`);
      open.hash.update(chunk.data);
      open.bytes += chunk.data.length;
      if (open.path === 'manifest.json' && open.bytes > MAX_MANIFEST_BYTES) throw new Error('manifest.json is too large');
      if (!open.stream.write(chunk.data)) await once(open.stream, 'drain');
      if (chunk.lastChunk) {
        await closeFile(open);
        open = undefined;
      }
    }
  } finally {
    if (open) await closeFile(open).catch(() => undefined);
  }
  if (open) throw new Error('the stream ended in the middle of a file');
  return [...received];
}

/**
 * `archive export --out DIR [filters]`: streams ExportConversations into a staging directory next to DIR, checks
 * every file's SHA-256 and size against manifest.json (read back from disk), then renames the staging directory to
 * DIR. DIR must not exist or be empty. On any failure, or a mismatch, nothing is left at DIR and the exit code is 1.
 */
export async function runArchiveExport(args: ParsedArgs, context: ArchiveExportContext): Promise<number> {
  const out = option(args, 'out');
  if (!out) throw new UsageError('archive export needs --out DIR');
  const request = exportRequestOf(args);
  checkOutputDirectory(out);
  const metadata = context.metadata();
  const target = path.resolve(out);
  const staging = `${target}.partial-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  const client = new ArchiveServiceClient(context.address, context.credentials);
  const call = client.exportConversations(request, metadata);
  const cancel = () => call.cancel();
  process.once('SIGINT', cancel);
  const started = Date.now();
  try {
    const files = await receiveBundle(call, staging);
    if (!files.includes('manifest.json')) throw new Error('the bundle has no manifest.json');
    const { problems, manifest } = await verifyBundle(staging);
    if (problems.length > 0) {
      process.stderr.write(`the bundle does not match its manifest:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
      return 1;
    }
    checkOutputDirectory(out);
    // rename(2) replaces an empty directory: the bundle appears at --out whole or not at all.
    renameSync(staging, target);
    const bytes = manifest?.files.reduce((sum, file) => sum + file.bytes, 0) ?? 0;
    context.print(
      `exported ${manifest?.messages ?? 0} messages of ${manifest?.conversations ?? 0} conversations into ${out}: ` +
        `${files.length} files, ${bytes} bytes (manifest excluded), every SHA-256 verified against manifest.json in ${Date.now() - started} ms`,
      { out, files: files.length, bytes, messages: manifest?.messages ?? 0, conversations: manifest?.conversations ?? 0, verified: true },
    );
    return 0;
  } finally {
    process.off('SIGINT', cancel);
    // Stops the server's reading when the client gave up early (a bad path, a full disk); a no-op after the end.
    call.cancel();
    client.close();
    rmSync(staging, { recursive: true, force: true });
  }
}
