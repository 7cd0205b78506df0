import type { MessageStatus } from '@waygate/domain';
import type { Pricing, Sentiment, TranscriptEntry, TranscriptStatus } from '../domain/transcript';

/** Test fixtures: hand-made transcript entries with fixed timestamps (the analysis tests' only input). */

/** 2025-03-03T09:00:00Z: a Monday. */
export const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

let sequence = 0;

function base(direction: 'inbound' | 'outbound', at: number, type: string, text: string | undefined): TranscriptEntry {
  sequence += 1;
  return {
    recordId: `rec-${sequence}`,
    tenantId: 'acme',
    conversationId: 'cv_test',
    messageId: `${direction === 'inbound' ? 'wamid.in' : 'msg'}-${sequence}`,
    direction,
    type,
    occurredAt: new Date(at),
    ...(text !== undefined ? { text } : {}),
    mediaIds: [],
    statuses: [],
  };
}

/** A customer message at `at` (ms since the epoch). */
export function customer(at: number, text = 'hello there', options: { type?: string; sentiment?: Sentiment } = {}): TranscriptEntry {
  return { ...base('inbound', at, options.type ?? 'text', text), ...(options.sentiment ? { sentiment: options.sentiment } : {}) };
}

/** A business message at `at`, with statuses given as [status, at, pricing?]. */
export function business(
  at: number,
  text = 'how can we help?',
  options: { type?: string; statuses?: readonly [MessageStatus, number, Pricing?][] } = {},
): TranscriptEntry {
  const statuses: TranscriptStatus[] = (options.statuses ?? [['DELIVERED', at + SECOND]]).map(([status, statusAt, pricing]) => ({
    status,
    occurredAt: new Date(statusAt),
    ...(pricing ? { pricing } : {}),
  }));
  return { ...base('outbound', at, options.type ?? 'text', text), statuses, status: statuses.at(-1)?.status ?? 'ACCEPTED' };
}
