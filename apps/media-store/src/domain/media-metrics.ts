import { metrics, type Meter } from '@opentelemetry/api';

/** media-store's metrics: counts and bytes per tenant, never ids or names. */
export interface MediaMetrics {
  uploaded(tenantId: string, kind: string, bytes: number): void;
  downloaded(tenantId: string, bytes: number): void;
  /** An upload refused; `reason` is the field violation's reason (UNSUPPORTED_TYPE, CONTENT_MISMATCH, TOO_LARGE, …). */
  refused(tenantId: string, reason: string): void;
  /** Stored (ciphertext) bytes added or, negative, removed. */
  stored(tenantId: string, bytes: number): void;
  integrityFailure(tenantId: string): void;
  swept(count: number): void;
  /** Orphaned blob-store objects the reaper deleted in one pass, by reason (`unreferenced`, `partial_upload`). */
  orphansReaped(reason: string, files: number, bytes: number): void;
  /** Unreferenced blobs the reaper kept because the metadata looked older than the blob store (after a restore). */
  orphansHeld(count: number): void;
  /** One orphan-reaper pass ended: `completed`, `held` (metadata behind the blob store) or `failed`. */
  orphanPass(outcome: 'completed' | 'held' | 'failed'): void;
}

/** The metrics on an OpenTelemetry meter (the SDK started by main exports them). */
export function createMediaMetrics(meter: Meter = metrics.getMeter('media-store')): MediaMetrics {
  const uploads = meter.createCounter('waygate_media_uploads', { description: 'media stored' });
  const uploadBytes = meter.createCounter('waygate_media_upload_bytes', { description: 'plaintext bytes uploaded', unit: 'By' });
  const downloads = meter.createCounter('waygate_media_downloads', { description: 'media downloads completed' });
  const downloadBytes = meter.createCounter('waygate_media_download_bytes', { description: 'plaintext bytes downloaded', unit: 'By' });
  const refusals = meter.createCounter('waygate_media_refused', { description: 'uploads refused, by reason (e.g. unsupported type)' });
  const stored = meter.createUpDownCounter('waygate_media_stored_bytes', {
    description: 'ciphertext bytes stored per tenant, changed by this process since it started',
    unit: 'By',
  });
  const integrity = meter.createCounter('waygate_media_integrity_failures', { description: 'stored blobs that failed to authenticate' });
  const sweeps = meter.createCounter('waygate_media_expired_deleted', { description: 'media ids deleted by the retention sweeper' });
  const orphans = meter.createCounter('waygate_media_orphans_reaped', {
    description: 'blob files (or GridFS files) no metadata row pointed at, deleted by the orphan reaper, by reason',
  });
  const orphanBytes = meter.createCounter('waygate_media_orphan_bytes_reaped', {
    description: 'stored (ciphertext) bytes the orphan reaper deleted, by reason',
    unit: 'By',
  });
  const orphansHeld = meter.createCounter('waygate_media_orphans_held', {
    description: 'unreferenced blobs kept because the metadata is older than the blob store (restore?): needs an operator',
  });
  const orphanPasses = meter.createCounter('waygate_media_orphan_reaper_passes', {
    description: 'orphan reaper passes by outcome (completed, held, failed): alert when none completes for a few intervals',
  });
  return {
    uploaded: (tenantId, kind, bytes) => {
      uploads.add(1, { tenant_id: tenantId, kind });
      uploadBytes.add(bytes, { tenant_id: tenantId });
    },
    downloaded: (tenantId, bytes) => {
      downloads.add(1, { tenant_id: tenantId });
      downloadBytes.add(bytes, { tenant_id: tenantId });
    },
    refused: (tenantId, reason) => refusals.add(1, { tenant_id: tenantId, reason }),
    stored: (tenantId, bytes) => stored.add(bytes, { tenant_id: tenantId }),
    integrityFailure: (tenantId) => integrity.add(1, { tenant_id: tenantId }),
    swept: (count) => sweeps.add(count),
    orphansReaped: (reason, files, bytes) => {
      orphans.add(files, { reason });
      orphanBytes.add(bytes, { reason });
    },
    orphansHeld: (count) => orphansHeld.add(count),
    orphanPass: (outcome) => orphanPasses.add(1, { outcome }),
  };
}
