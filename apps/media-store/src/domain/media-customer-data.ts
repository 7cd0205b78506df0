import type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import type { MediaRecord, MediaVaultStore } from './media-vault-store';

/** How many blobs an erasure or export reads at a time. */
export const CUSTOMER_MEDIA_PAGE = 100;

function mediaRecord(media: MediaRecord): Record<string, unknown> {
  return {
    media_id: media.mediaId,
    mime_type: media.mimeType,
    ...(media.filename !== undefined ? { filename: media.filename } : {}),
    sha256: media.blob.sha256,
    size_bytes: media.blob.sizeBytes,
    created_at: media.createdAt.toISOString(),
    expires_at: media.expiresAt.toISOString(),
  };
}

/**
 * media-store's part in erasure and export (issue 14). Erasure deletes every media id whose blob belongs to the
 * customer (`customerRef`, as uploaded with `customer`) and unlinks the blob files (GridFS files) once no media id
 * points at them; the bytes were encrypted under the customer's data key, which the coordinator destroyed first, so
 * any copy (a backup, a file a crash left behind for the orphan reaper) is unreadable. Nothing is kept: media has no
 * billing or audit role. Tenant-wide media (uploaded without `customer`) and release-1 media name no customer and are
 * not reached. Idempotent. The export lists the customer's media (ids, types, file names, sizes, hashes), not the
 * bytes: DownloadMedia serves them while the customer exists.
 */
export function createMediaCustomerData(deps: { readonly store: MediaVaultStore }): CustomerDataParticipant {
  const { store } = deps;
  return {
    service: 'media-store',
    async erase(subject: CustomerDataSubject): Promise<Record<string, number>> {
      let media = 0;
      let blobs = 0;
      for (;;) {
        // Always the first page: what this pass deletes leaves it.
        const page = await store.listCustomerMedia(subject.tenantId, subject.customerRef, { limit: CUSTOMER_MEDIA_PAGE });
        if (page.length === 0) break;
        let deletedNow = 0;
        for (const record of page) {
          const { deleted, orphan } = await store.deleteMedia(subject.tenantId, record.mediaId);
          if (deleted) {
            media++;
            deletedNow++;
          }
          if (orphan) {
            await store.deleteBlobData(orphan.blobId);
            blobs++;
          }
        }
        // Another replica erasing at the same time took them: the next pass sees what is left.
        if (deletedNow === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await store.flushDeleted();
      return { media, blobs };
    },
    async *exportCustomer(subject: CustomerDataSubject): AsyncIterable<CustomerDataRecord> {
      let afterBlobId: string | undefined;
      for (;;) {
        const page = await store.listCustomerMedia(subject.tenantId, subject.customerRef, {
          limit: CUSTOMER_MEDIA_PAGE,
          ...(afterBlobId ? { afterBlobId } : {}),
        });
        for (const record of page) yield { section: 'media.jsonl', record: mediaRecord(record) };
        afterBlobId = page.at(-1)?.blob.blobId;
        if (!afterBlobId) break;
      }
    },
  };
}
