import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring, KeyScope } from './keyring';

/**
 * A sealed payload: binary content (an event published on JetStream) encrypted with AES-256-GCM under a keyring data
 * key, so the stream's files hold nothing readable once the key is destroyed (crypto-shredding). Compact and
 * self-describing, so a copy (a dead letter, a replay) is recognised and opened the same way:
 *
 * `57 47 53 01` (`WGS` v1) · key id length (1 byte) · key id (ASCII) · IV (12 bytes) · ciphertext · tag (16 bytes)
 *
 * Everything before the IV (version and key id, which names the scope: `tenant.<id>[.customer.<ref>]@<version>`) is
 * the AAD. The first byte, 0x57, has protobuf wire type 7, which no valid protobuf message starts with, so a sealed
 * payload is never mistaken for an unsealed event (and the reverse) during a rolling upgrade.
 */
export const SEALED_PAYLOAD_MAGIC = Buffer.from([0x57, 0x47, 0x53, 0x01]);
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_.@-]{1,255}$/;
/** Bytes a sealed payload adds to its plaintext, besides its key id. */
export const SEALED_PAYLOAD_OVERHEAD_BYTES = SEALED_PAYLOAD_MAGIC.length + 1 + IV_BYTES + TAG_BYTES;

/** Whether `data` is a sealed payload (by its first four bytes; {@link openPayload} checks the rest). */
export function isSealedPayload(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x57 && data[1] === 0x47 && data[2] === 0x53 && data[3] === 0x01;
}

/** A sealed payload that is truncated, altered, or names no valid key id. Permanent: opening it again cannot help. */
export class MalformedSealedPayloadError extends Error {
  readonly retryable = false;
  constructor(why: string) {
    super(`sealed payload is malformed: ${why}`);
    this.name = 'MalformedSealedPayloadError';
  }
}

/** The key id a sealed payload names (without opening it), e.g. for a log line; throws if it is malformed. */
export function sealedPayloadKeyId(data: Uint8Array): string {
  return parse(data).keyId;
}

/** The tenant of a key id (`tenant.<id>…@<version>`), for logs and metrics: never the customer reference. */
export function tenantOfKeyId(keyId: string): string {
  return /^tenant\.([A-Za-z0-9_-]{1,64})[.@]/.exec(keyId)?.[1] ?? '';
}

/** Seals `plaintext` under the current data key of `scope`. */
export async function sealPayload(keyring: Pick<Keyring, 'dataKeyFor'>, scope: KeyScope, plaintext: Uint8Array): Promise<Buffer> {
  const { keyId, key } = await keyring.dataKeyFor(scope);
  return sealWithKey(keyId, key, plaintext);
}

/** Seals `plaintext` under an already unwrapped data key (for callers that seal many payloads under one key). */
export function sealWithKey(keyId: string, key: Buffer, plaintext: Uint8Array): Buffer {
  if (!KEY_ID.test(keyId)) throw new Error('key id is not valid in a sealed payload');
  const header = Buffer.concat([SEALED_PAYLOAD_MAGIC, Buffer.from([keyId.length]), Buffer.from(keyId, 'ascii')]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(header);
  return Buffer.concat([header, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

interface ParsedPayload {
  readonly keyId: string;
  readonly header: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function parse(data: Uint8Array): ParsedPayload {
  if (!isSealedPayload(data)) throw new MalformedSealedPayloadError('not a sealed payload');
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const keyIdLength = bytes[4] ?? 0;
  const ivAt = 5 + keyIdLength;
  if (keyIdLength === 0 || bytes.length < ivAt + IV_BYTES + TAG_BYTES) throw new MalformedSealedPayloadError('truncated');
  const keyId = bytes.subarray(5, ivAt).toString('latin1');
  if (!KEY_ID.test(keyId)) throw new MalformedSealedPayloadError('invalid key id');
  return {
    keyId,
    header: bytes.subarray(0, ivAt),
    iv: bytes.subarray(ivAt, ivAt + IV_BYTES),
    ciphertext: bytes.subarray(ivAt + IV_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

/**
 * Opens a sealed payload. Throws DataKeyUnavailableError when its key was destroyed (the content is erased), and
 * MalformedSealedPayloadError when it is not well-formed, was altered, or (with `tenantId`) is not that tenant's.
 */
export async function openPayload(
  keyring: Pick<Keyring, 'dataKeyById'>,
  data: Uint8Array,
  options: { tenantId?: string } = {},
): Promise<Buffer> {
  const sealed = parse(data);
  if (options.tenantId !== undefined && tenantOfKeyId(sealed.keyId) !== options.tenantId)
    throw new MalformedSealedPayloadError('sealed for another tenant');
  const key = await keyring.dataKeyById(sealed.keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(sealed.header);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new MalformedSealedPayloadError('does not authenticate');
  }
}

/** The data key scope of one customer of a tenant (its pseudonym from the keyring), for sealing what concerns them. */
export async function customerKeyScope(keyring: Pick<Keyring, 'customerRef'>, tenantId: string, customer: string): Promise<KeyScope> {
  return { tenantId, customerRef: await keyring.customerRef(tenantId, customer) };
}
