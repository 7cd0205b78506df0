import type { Clock } from '@waygate/domain';
import type { MediaMetrics } from './media-metrics';
import type { MediaVaultStore, StoredBlobObject } from './media-vault-store';

/**
 * The orphan reaper: deletes blob-store objects that no metadata row points at. They come from a crash between
 * deleting a blob's row and its bytes, between committing an upload's bytes and recording it (or dropping a
 * duplicate), and from uploads cut off midway (temporary files, GridFS chunks without their file).
 *
 * Safe beside running uploads and other replicas sharing the store:
 * - only objects not written for `graceMs` are candidates (an upload writes, commits and records its blob well within
 *   it), and the age is read again right before the delete;
 * - a committed object is deleted only if no row points at it twice, `settleMs` apart (a multi-step MongoDB delete
 *   briefly has no blob record while it may still put it back);
 * - deletes are conditional and idempotent, so two replicas reaping at once delete each object once;
 * - when the pairing marks say the metadata is older than the blob store (a restore of the metadata alone, or a lost
 *   database), unreferenced committed blobs are kept and counted as held: "no row" no longer means "orphan".
 */

/** Why an object was reaped (the metric's `reason`). */
export type ReapReason = 'unreferenced' | 'partial_upload';

/** What one pass did: counts and bytes only (it names no blob, tenant or customer). */
export interface ReapReport {
  /** Objects listed. */
  readonly scanned: number;
  /** Objects written within the grace period: left alone. */
  readonly young: number;
  /** Old committed objects a row points at. */
  readonly referenced: number;
  readonly reaped: Readonly<Record<ReapReason, { readonly files: number; readonly bytes: number }>>;
  /** Unreferenced blobs kept because the metadata is older than the blob store (see {@link PairingMarks}). */
  readonly held: number;
  /** True when the metadata looked older than the blob store: nothing unreferenced was deleted. */
  readonly metadataBehind: boolean;
  /** Candidates that changed under the pass (written, recorded or deleted by someone else meanwhile). */
  readonly raced: number;
  /** True when the pass stopped at its candidate bound; the next pass goes on. */
  readonly truncated: boolean;
  readonly durationMs: number;
}

/** The reaper, built over the store; `reap()` runs one pass. */
export interface OrphanReaper {
  /** One pass. An aborted `signal` ends it early (at shutdown), deleting nothing more; the report is then truncated. */
  reap(signal?: AbortSignal): Promise<ReapReport>;
}

/** Pause between the two reference checks of an unreferenced blob. */
export const DEFAULT_SETTLE_MS = 2000;
/** Unreferenced candidates one pass takes at most (bounds its memory and its work; the rest wait for the next pass). */
export const DEFAULT_MAX_CANDIDATES_PER_PASS = 10_000;
const CHECK_BATCH = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Builds the reaper. `graceMs` is validated by the configuration (at least a minute). */
export function createOrphanReaper(deps: {
  store: MediaVaultStore;
  clock: Clock;
  metrics: Pick<MediaMetrics, 'orphansReaped' | 'orphansHeld' | 'orphanPass'>;
  graceMs: number;
  settleMs?: number;
  maxCandidatesPerPass?: number;
}): OrphanReaper {
  const { store, clock, metrics, graceMs } = deps;
  const settleMs = deps.settleMs ?? DEFAULT_SETTLE_MS;
  const maxCandidates = deps.maxCandidatesPerPass ?? DEFAULT_MAX_CANDIDATES_PER_PASS;

  async function reap(signal?: AbortSignal): Promise<ReapReport> {
    const started = clock.now();
    // Blob mark read first (see readPairingMarks); a restore of older metadata leaves blobs > metadata.
    const marks = await store.readPairingMarks();
    const metadataBehind = marks.blobs > marks.metadata;
    if (!metadataBehind) await store.advancePairingMarks(marks.metadata + 1);
    const cutoff = new Date(started.getTime() - graceMs);
    const reaped = { unreferenced: { files: 0, bytes: 0 }, partial_upload: { files: 0, bytes: 0 } };
    let scanned = 0;
    let young = 0;
    let referenced = 0;
    let held = 0;
    let raced = 0;
    let truncated = false;

    const remove = async (object: StoredBlobObject, reason: ReapReason) => {
      if (await store.deleteBlobObject(object, cutoff)) {
        reaped[reason].files++;
        reaped[reason].bytes += object.storedBytes;
      } else raced++;
    };

    // First check, in batches as the listing streams.
    let candidates: StoredBlobObject[] = [];
    let batch: StoredBlobObject[] = [];
    const check = async () => {
      const ids = batch.map((object) => object.blobId as string);
      const pointed = ids.length > 0 ? await store.referencedBlobIds(ids) : new Set<string>();
      for (const object of batch) {
        if (pointed.has(object.blobId as string)) referenced++;
        else if (metadataBehind) held++;
        else candidates.push(object);
      }
      batch = [];
    };
    for await (const object of store.listBlobObjects()) {
      if (signal?.aborted) {
        truncated = true;
        break;
      }
      scanned++;
      if (object.modifiedAt > cutoff) {
        young++;
        continue;
      }
      // A partial upload is never pointed at by a row: old enough is enough (its upload would fail at commit).
      if (object.kind === 'partial') {
        await remove(object, 'partial_upload');
        continue;
      }
      batch.push(object);
      if (batch.length >= CHECK_BATCH) await check();
      if (candidates.length >= maxCandidates) {
        truncated = true;
        break;
      }
    }
    await check();
    if (candidates.length > maxCandidates) {
      truncated = true;
      candidates = candidates.slice(0, maxCandidates);
    }

    // Second check, after the settle pause, one blob at a time right before its delete (orphans are few: one query
    // each costs nothing next to the listing).
    if (candidates.length > 0 && settleMs > 0 && !signal?.aborted) await sleep(settleMs);
    for (const object of candidates) {
      if (signal?.aborted) {
        truncated = true;
        break;
      }
      if ((await store.referencedBlobIds([object.blobId as string])).size > 0) raced++;
      else await remove(object, 'unreferenced');
    }

    for (const reason of ['unreferenced', 'partial_upload'] as const) {
      if (reaped[reason].files > 0) metrics.orphansReaped(reason, reaped[reason].files, reaped[reason].bytes);
    }
    if (held > 0) metrics.orphansHeld(held);
    metrics.orphanPass(metadataBehind ? 'held' : 'completed');
    return {
      scanned,
      young,
      referenced,
      reaped,
      held,
      metadataBehind,
      raced,
      truncated,
      durationMs: clock.now().getTime() - started.getTime(),
    };
  }

  return { reap };
}
