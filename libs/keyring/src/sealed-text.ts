import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring, KeyScope } from './keyring';

/**
 * Sealed text: a short secret (an authentication code) encrypted with AES-256-GCM under a keyring data key, written
 * where the plaintext would otherwise be (a template parameter), so it can cross stores and streams unreadable and be
 * opened only by a service of the region holding the KEK. Format:
 * `wgsealed:v1:<key id>:<iv>:<ciphertext>:<tag>` (base64url parts); the tenant and key id are authenticated (AAD).
 */
export const SEALED_TEXT_PREFIX = 'wgsealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PART = /^[A-Za-z0-9_-]*$/;

/** Whether `text` is sealed text (by its prefix; {@link openSealedText} checks the rest). */
export function isSealedText(text: string): boolean {
  return text.startsWith(SEALED_TEXT_PREFIX);
}

function aad(tenantId: string, keyId: string): Buffer {
  return Buffer.from(JSON.stringify(['waygate.sealed-text.v1', tenantId, keyId]), 'utf8');
}

/** Seals `plaintext` under the data key of `scope` (typically an ephemeral one). */
export async function sealText(keyring: Keyring, scope: KeyScope, plaintext: string): Promise<string> {
  const { keyId, key } = await keyring.dataKeyFor(scope);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(scope.tenantId, keyId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${SEALED_TEXT_PREFIX}${keyId}:${iv.toString('base64url')}:${ciphertext.toString('base64url')}:${cipher
    .getAuthTag()
    .toString('base64url')}`;
}

/** Sealed text that is malformed or was sealed for another tenant. */
export class MalformedSealedTextError extends Error {
  readonly retryable = false;
  constructor() {
    super('sealed text is malformed or not this tenant’s');
    this.name = 'MalformedSealedTextError';
  }
}

/**
 * Opens sealed text of `tenantId`. Throws DataKeyUnavailableError when its key was destroyed (expired), and
 * MalformedSealedTextError when it is not well-formed, was altered, or belongs to another tenant.
 */
export async function openSealedText(keyring: Keyring, tenantId: string, sealed: string): Promise<string> {
  if (!isSealedText(sealed)) throw new MalformedSealedTextError();
  const parts = sealed.slice(SEALED_TEXT_PREFIX.length).split(':');
  if (parts.length !== 4) throw new MalformedSealedTextError();
  const [keyId, iv, ciphertext, tag] = parts as [string, string, string, string];
  if (!keyId.startsWith(`tenant.${tenantId}.`) || ![iv, ciphertext, tag].every((part) => PART.test(part)))
    throw new MalformedSealedTextError();
  const key = await keyring.dataKeyById(keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(tenantId, keyId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new MalformedSealedTextError();
  }
}
