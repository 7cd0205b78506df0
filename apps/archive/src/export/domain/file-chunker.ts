import { createHash } from 'node:crypto';

/** Default chunk size of a bundle file: 64 KiB, well under gRPC's 4 MiB message limit. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;

/** One chunk of one bundle file. Files come one after another; each file's last chunk has `lastChunk` set. */
export interface BundleChunk {
  /** The file's path inside the bundle, e.g. "messages.jsonl" or "transcripts/cv_….html". */
  readonly path: string;
  /** The next bytes of the file (at most the chunk size; empty only for an empty file). */
  readonly data: Buffer;
  readonly lastChunk: boolean;
}

/** What the manifest says of one file: computed while the file streamed, never by reading it again. */
export interface FileSummary {
  readonly path: string;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
  /** Messages in the file (CSV: data rows, without the header). */
  readonly records: number;
}

/** A file's content: text pieces (a line, a row, an HTML block), produced lazily; `count()` counts a record. */
export type FileContent = (count: () => void) => AsyncIterable<string>;

/**
 * Streams one file as chunks of at most `chunkBytes` bytes, hashing and counting as it goes. Memory holds at most one
 * chunk plus one piece: a piece larger than a chunk (a long content JSON) is split across chunks. Pulled by the
 * consumer (an async generator), so a slow consumer slows the reading of the source: that is the backpressure.
 * Returns the file's summary.
 */
export async function* streamFile(path: string, content: FileContent, chunkBytes: number): AsyncGenerator<BundleChunk, FileSummary> {
  const hash = createHash('sha256');
  let bytes = 0;
  let records = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of content(() => records++)) {
    if (piece.length === 0) continue;
    const data = Buffer.from(piece, 'utf8');
    hash.update(data);
    bytes += data.length;
    pending.push(data);
    pendingBytes += data.length;
    // Strictly more than a chunk: the remainder kept back is never empty, so the last chunk carries data.
    if (pendingBytes > chunkBytes) {
      let joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      while (joined.length > chunkBytes) {
        // A copy, so the emitted chunk does not keep the whole joined buffer alive.
        yield { path, data: Buffer.from(joined.subarray(0, chunkBytes)), lastChunk: false };
        joined = joined.subarray(chunkBytes);
      }
      pending = [Buffer.from(joined)];
      pendingBytes = joined.length;
    }
  }
  yield { path, data: Buffer.concat(pending, pendingBytes), lastChunk: true };
  return { path, sha256: hash.digest('hex'), bytes, records };
}
