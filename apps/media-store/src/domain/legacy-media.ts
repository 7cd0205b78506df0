import { createDecipheriv, createHash } from 'node:crypto';

/**
 * A blob stored before the vault (release 1): one AES-256-GCM ciphertext under the single service key
 * (WAYGATE_MEDIA_ENCRYPTION_KEY or `<data dir>/<region>/media-store.key`), at most 5 MiB, tenant and media id as AAD.
 * Read-only: the vault never writes this format; such media stays readable after an upgrade.
 */
export interface LegacyMediaRecord {
  readonly tenantId: string;
  readonly mediaId: string;
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly authTag: Buffer;
  readonly mimeType: string;
  readonly filename?: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly createdAt: Date;
}

/** Decrypts and checks a release-1 blob; throws if it does not authenticate or its sha256 or size differ. */
export function openLegacyMedia(key: Buffer, record: LegacyMediaRecord): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, record.iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(JSON.stringify(['waygate.media.v1', record.tenantId, record.mediaId]), 'utf8'));
  decipher.setAuthTag(record.authTag);
  const content = Buffer.concat([decipher.update(record.ciphertext), decipher.final()]);
  if (content.length !== record.sizeBytes || createHash('sha256').update(content).digest('hex') !== record.sha256)
    throw new Error('legacy media does not match its sha256 or size');
  return content;
}
