import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256 takes a 32-byte key. */
export const MEDIA_KEY_BYTES = 32;
/** GCM's recommended nonce size; a fresh random one per blob (never reused with one key). */
const IV_BYTES = 12;
/** Full-length GCM tag: truncated tags weaken forgery resistance. */
const AUTH_TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
/** Versioned so that a future scheme (e.g. with a key id) cannot be confused with this one. */
const AAD_LABEL = 'waygate.media.v1';

/** A blob as stored: ciphertext plus what is needed to authenticate and decrypt it. */
export interface SealedBlob {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly authTag: Buffer;
}

/** Whose blob this is; bound into the ciphertext as additional authenticated data. */
export interface BlobBinding {
  readonly tenantId: string;
  readonly mediaId: string;
}

/** Encrypts media at rest. Decryption fails unless the blob, its IV and tag, and its binding are all unchanged. */
export interface MediaCipher {
  encrypt(plaintext: Buffer, binding: BlobBinding): SealedBlob;
  /** Throws if the blob was altered or is presented under another tenant or media id. */
  decrypt(blob: SealedBlob, binding: BlobBinding): Buffer;
}

/**
 * The AAD: a JSON array is an unambiguous encoding of the parts (no "a" + "bc" vs "ab" + "c" collisions), so a row
 * copied to another tenant or id does not authenticate.
 */
function additionalData(binding: BlobBinding): Buffer {
  return Buffer.from(JSON.stringify([AAD_LABEL, binding.tenantId, binding.mediaId]), 'utf8');
}

/** AES-256-GCM with a random 12-byte IV per blob and the tenant and media id as AAD. The key stays in this closure. */
export function createMediaCipher(key: Buffer): MediaCipher {
  if (key.length !== MEDIA_KEY_BYTES) throw new Error(`media encryption key must be ${MEDIA_KEY_BYTES} bytes (got ${key.length})`);
  const secret = Buffer.from(key); // a private copy: the caller's buffer may be reused or zeroed
  return {
    encrypt(plaintext, binding) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, secret, iv, { authTagLength: AUTH_TAG_BYTES });
      cipher.setAAD(additionalData(binding));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { ciphertext, iv, authTag: cipher.getAuthTag() };
    },
    decrypt(blob, binding) {
      if (blob.iv.length !== IV_BYTES || blob.authTag.length !== AUTH_TAG_BYTES)
        throw new Error('stored IV or auth tag has the wrong length');
      const decipher = createDecipheriv(ALGORITHM, secret, blob.iv, { authTagLength: AUTH_TAG_BYTES });
      decipher.setAAD(additionalData(binding));
      decipher.setAuthTag(blob.authTag);
      // final() throws if the tag does not verify; nothing decrypted is returned before that.
      return Buffer.concat([decipher.update(blob.ciphertext), decipher.final()]);
    },
  };
}
