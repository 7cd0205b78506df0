import { SimulatorInputError } from '../simulator-input-error';

/**
 * A media download (`GET` of a media URL) that Meta's CDN cuts off midway: the answer declares the whole file in
 * `Content-Length`, sends its first `afterBytes` bytes and then drops the connection, as a lost connection does. A
 * downloader has to notice the short body and throw away what it got.
 */
export interface MediaDownloadFaultRule {
  /** Only downloads of this media id; default every download. */
  mediaId?: string;
  /** How many downloads it cuts off; omitted = every one until cleared. */
  count?: number;
  /** Bytes sent before the connection is dropped; default half the file (at least 1, less than the file). */
  afterBytes?: number;
}

interface ActiveRule {
  rule: MediaDownloadFaultRule;
  remaining: number;
}

/** Checks an untrusted rule (from code or the control API). */
export function parseMediaDownloadFaultRule(value: unknown): MediaDownloadFaultRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SimulatorInputError('media download fault must be an object');
  const { mediaId, count, afterBytes, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new SimulatorInputError(`unknown field ${unknown[0]} (known: mediaId, count, afterBytes)`);
  if (mediaId !== undefined && (typeof mediaId !== 'string' || !/^\d{1,32}$/.test(mediaId)))
    throw new SimulatorInputError('mediaId must be a media id (digits)');
  if (count !== undefined && (!Number.isInteger(count) || (count as number) < 1))
    throw new SimulatorInputError('count must be a positive integer');
  if (afterBytes !== undefined && (!Number.isInteger(afterBytes) || (afterBytes as number) < 0))
    throw new SimulatorInputError('afterBytes must be a non-negative integer');
  return {
    ...(mediaId === undefined ? {} : { mediaId: mediaId as string }),
    ...(count === undefined ? {} : { count: count as number }),
    ...(afterBytes === undefined ? {} : { afterBytes: afterBytes as number }),
  };
}

/** Active media download faults; the first matching rule with cuts left applies. */
export class MediaDownloadFaults {
  private readonly rules: ActiveRule[] = [];

  add(rule: MediaDownloadFaultRule): void {
    this.rules.push({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /**
   * Whether this download of `mediaId` (`sizeBytes` long) is cut off, and after how many bytes (always fewer than the
   * file, so the body is short); uses up one cut of the matching rule.
   */
  take(mediaId: string, sizeBytes: number): { afterBytes: number } | undefined {
    const active = this.rules.find((entry) => entry.remaining > 0 && (entry.rule.mediaId === undefined || entry.rule.mediaId === mediaId));
    if (active === undefined || sizeBytes === 0) return undefined;
    active.remaining--;
    const afterBytes = active.rule.afterBytes ?? Math.floor(sizeBytes / 2);
    return { afterBytes: Math.min(afterBytes, sizeBytes - 1) };
  }
}
