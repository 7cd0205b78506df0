import { HASH_BYTES } from './merkle-hash';
import { signNote, verifyNote, type NoteSigner, type NoteVerifier } from './signed-note';

/** A C2SP tlog-checkpoint body: which log, how many leaves, their root, and optional extension lines. */
export interface Checkpoint {
  /** The log's origin line, e.g. `waygate/eu/archive/acme`: unique per log, no newline. */
  readonly origin: string;
  readonly treeSize: number;
  /** MTH of the first treeSize leaves (32 bytes). */
  readonly rootHash: Buffer;
  /** Extension lines (opaque, non-empty, without newlines); none by default. */
  readonly extensions?: readonly string[];
}

/** A checkpoint text that is not C2SP tlog-checkpoint; `reason` names the failed check. */
export class MalformedCheckpointError extends Error {
  override readonly name = 'MalformedCheckpointError';
  constructor(readonly reason: string) {
    super(`malformed checkpoint: ${reason}`);
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;

function checkLine(line: string, what: string): void {
  if (line.length === 0) throw new MalformedCheckpointError(`${what} is empty`);
  if (CONTROL.test(line)) throw new MalformedCheckpointError(`${what} contains control characters`);
}

/**
 * The note text of a checkpoint (C2SP tlog-checkpoint): origin, decimal tree size, base64 root hash, then any
 * extension lines, each ending in a newline. Sign it with signNote.
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  checkLine(checkpoint.origin, 'origin');
  if (!Number.isSafeInteger(checkpoint.treeSize) || checkpoint.treeSize < 0)
    throw new MalformedCheckpointError('tree size must be a non-negative integer');
  if (checkpoint.rootHash.length !== HASH_BYTES) throw new MalformedCheckpointError(`root hash must be ${HASH_BYTES} bytes`);
  const extensions = checkpoint.extensions ?? [];
  extensions.forEach((line) => checkLine(line, 'extension line'));
  return [checkpoint.origin, String(checkpoint.treeSize), checkpoint.rootHash.toString('base64'), ...extensions]
    .map((line) => `${line}\n`)
    .join('');
}

/** Parses a checkpoint note text (see formatCheckpoint); throws MalformedCheckpointError. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new MalformedCheckpointError('text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new MalformedCheckpointError('needs an origin, a tree size and a root hash line');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'origin');
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new MalformedCheckpointError('tree size must be a decimal without leading zeros');
  const treeSize = Number(size);
  if (!Number.isSafeInteger(treeSize)) throw new MalformedCheckpointError('tree size is too large');
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== HASH_BYTES || rootHash.toString('base64') !== root)
    throw new MalformedCheckpointError(`root hash must be base64 of ${HASH_BYTES} bytes`);
  extensions.forEach((line) => checkLine(line, 'extension line'));
  return { origin, treeSize, rootHash, ...(extensions.length > 0 ? { extensions } : {}) };
}

/** Formats `checkpoint` and signs it: the signed note a log publishes. */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(checkpoint), [signer]);
}

/**
 * Verifies a signed checkpoint note with `verifier` and parses it; when `origin` is given, the checkpoint must be of
 * that log. Throws NoteVerificationError or MalformedCheckpointError.
 */
export function verifyCheckpoint(note: string, verifier: NoteVerifier, origin?: string): Checkpoint {
  const { text } = verifyNote(note, [verifier]);
  const checkpoint = parseCheckpoint(text);
  if (origin !== undefined && checkpoint.origin !== origin)
    throw new MalformedCheckpointError(`origin is ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(origin)}`);
  return checkpoint;
}
