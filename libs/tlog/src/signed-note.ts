import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** C2SP signed-note signature type of Ed25519 keys. */
export const ED25519_SIGNATURE_TYPE = 0x01;

/** At most this many signature lines are read from a note (the spec asks verifiers to accept at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

/** At most this many bytes of note are parsed: notes here are checkpoints and receipts, a few hundred bytes. */
export const MAX_NOTE_BYTES = 64 * 1024;

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const EM_DASH = '\u2014';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A note that is malformed, or whose signatures do not verify; `reason` names the failed check. */
export class NoteVerificationError extends Error {
  override readonly name = 'NoteVerificationError';
  constructor(readonly reason: string) {
    super(`signed note rejected: ${reason}`);
  }
}

/** True when `error` is a NoteVerificationError. */
export function isNoteVerificationError(error: unknown): error is NoteVerificationError {
  return error instanceof NoteVerificationError;
}

/** An Ed25519 public key as a note verifier knows it. */
export interface NoteVerifier {
  readonly name: string;
  /** SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian. */
  readonly keyId: number;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  /** `<name>+<8 hex key id>+<base64(0x01 || public key)>`, as golang.org/x/mod/sumdb/note writes it. */
  readonly verifierKey: string;
}

/** An Ed25519 private key that signs notes. */
export interface NoteSigner extends NoteVerifier {
  /** The RFC 8032 signature of `message`. */
  sign(message: Uint8Array): Buffer;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Buffer;
}

/** Throws unless `name` is a valid key name: non-empty, no Unicode spaces, no `+`, no control characters. */
export function checkKeyName(name: string): void {
  if (name.length === 0 || /[\s+\p{Cc}]/u.test(name))
    throw new RangeError(`note key name ${JSON.stringify(name)} must be non-empty, without spaces or "+"`);
}

/** C2SP signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian. */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_SIGNATURE_TYPE]))
    .update(publicKey)
    .digest()
    .readUInt32BE(0);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** The verifier of an Ed25519 public key named `name`. */
export function noteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name);
  if (publicKey.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes');
  const key = Buffer.from(publicKey);
  const keyId = noteKeyId(name, key);
  const encoded = Buffer.concat([Buffer.from([ED25519_SIGNATURE_TYPE]), key]).toString('base64');
  return { name, keyId, publicKey: key, verifierKey: `${name}+${hex8(keyId)}+${encoded}` };
}

/**
 * Parses a verifier key `<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>`; throws NoteVerificationError when
 * it is malformed, is not Ed25519, or its key id does not match its name and key.
 */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const first = verifierKey.indexOf('+');
  const second = verifierKey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new NoteVerificationError('verifier key must be <name>+<key id>+<key>');
  const name = verifierKey.slice(0, first);
  const id = verifierKey.slice(first + 1, second);
  const encoded = verifierKey.slice(second + 1);
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteVerificationError('verifier key id must be 8 lowercase hex digits');
  if (!BASE64.test(encoded)) throw new NoteVerificationError('verifier key is not base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.toString('base64') !== encoded) throw new NoteVerificationError('verifier key is not canonical base64');
  if (key.length !== 33 || key[0] !== ED25519_SIGNATURE_TYPE)
    throw new NoteVerificationError('verifier key is not an Ed25519 key (0x01 followed by 32 bytes)');
  try {
    checkKeyName(name);
  } catch {
    throw new NoteVerificationError('verifier key name must be non-empty, without spaces or "+"');
  }
  const verifier = noteVerifier(name, key.subarray(1));
  if (hex8(verifier.keyId) !== id) throw new NoteVerificationError('verifier key id does not match its name and key');
  return verifier;
}

/** The Ed25519 signer of a 32-byte RFC 8032 private key seed, named `name`. */
export function noteSignerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (seed.length !== 32) throw new RangeError('an Ed25519 private key seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const verifier = noteVerifier(name, spki.subarray(spki.length - 32));
  return { ...verifier, sign: (message) => sign(null, message, privateKey) };
}

function publicKeyObject(publicKey: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteVerificationError('note text must end with a newline');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new NoteVerificationError('note contains control characters');
}

/**
 * Signs `text` (which must end in a newline) with every signer: the note is the text, a blank line and one signature
 * line `— <name> <base64(key id || signature)>` per signer.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  if (signers.length === 0) throw new RangeError('a note needs at least one signer');
  const message = Buffer.from(text, 'utf8');
  const lines = signers.map((signer) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId);
    return `${EM_DASH} ${signer.name} ${Buffer.concat([id, signer.sign(message)]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** A note split into its text and its signature lines, nothing verified yet. */
export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Splits a signed note into text and signatures (no verification); throws NoteVerificationError when malformed. */
export function parseNote(note: string): ParsedNote {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) throw new NoteVerificationError('note is too large');
  if (note.includes('\uFFFD')) throw new NoteVerificationError('note is not valid UTF-8');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteVerificationError('note has no signature block');
  const text = note.slice(0, split + 1);
  checkText(text);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) throw new NoteVerificationError('signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new NoteVerificationError('note has too many signatures');
  const signatures = lines.map((line) => {
    const match = /^\u2014 ([^ ]+) ([A-Za-z0-9+/]+=*)$/u.exec(line);
    if (!match) throw new NoteVerificationError('malformed signature line');
    const [, name, encoded] = match as unknown as [string, string, string];
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length < 5 || bytes.toString('base64') !== encoded) throw new NoteVerificationError('malformed signature encoding');
    return { name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

/**
 * Verifies a signed note against the known verifiers and returns its text. As C2SP signed-note requires: signatures
 * of unknown keys (name and key id not both matching) are ignored, a known key's signature that fails rejects the
 * note, and at least one known key must have signed. Throws NoteVerificationError.
 */
export function verifyNote(note: string, verifiers: readonly NoteVerifier[]): { text: string; verifiedBy: NoteVerifier[] } {
  const parsed = parseNote(note);
  const message = Buffer.from(parsed.text, 'utf8');
  const verifiedBy: NoteVerifier[] = [];
  for (const signature of parsed.signatures) {
    const verifier = verifiers.find((v) => v.name === signature.name && v.keyId === signature.keyId);
    if (!verifier) continue;
    if (signature.signature.length !== 64 || !verify(null, message, publicKeyObject(verifier.publicKey), signature.signature))
      throw new NoteVerificationError(`signature of ${verifier.name} does not verify`);
    if (!verifiedBy.includes(verifier)) verifiedBy.push(verifier);
  }
  if (verifiedBy.length === 0) throw new NoteVerificationError('no signature by a known key');
  return { text: parsed.text, verifiedBy };
}
