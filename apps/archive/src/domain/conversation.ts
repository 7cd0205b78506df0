import type { Direction, Sentiment, SentimentLabel, TranscriptEntry } from './transcript';

/** A conversation's customer sentiment: first and last scored customer message, and how many were scored. */
export interface SentimentSummary {
  readonly start?: Sentiment;
  readonly end?: Sentiment;
  /** Absent with fewer than two scored messages. */
  readonly trend?: SentimentTrend;
  readonly scoredMessages: number;
}

export type SentimentTrend = 'improving' | 'stable' | 'worsening';

/** End and start scores closer than this are 'stable' (the sentiment library's scores are small decimals). */
export const SENTIMENT_TREND_THRESHOLD = 0.1;

/** The trend from the first scored customer message to the last. Pure. */
export function sentimentTrendOf(
  start: Sentiment | undefined,
  end: Sentiment | undefined,
  scoredMessages: number,
): SentimentTrend | undefined {
  if (scoredMessages < 2 || start?.score === undefined || end?.score === undefined) return undefined;
  const change = end.score - start.score;
  if (Math.abs(change) < SENTIMENT_TREND_THRESHOLD) return 'stable';
  return change > 0 ? 'improving' : 'worsening';
}

/** The summary of one conversation (one tenant's business number and one customer), kept as messages arrive. */
export interface ConversationSummary {
  readonly tenantId: string;
  /** conversationIdOf({ tenantId, phoneNumberId, customer }). */
  readonly conversationId: string;
  readonly phoneNumberId: string;
  /** E.164. Personal data: never logged. */
  readonly customer: string;
  readonly firstMessageAt: Date;
  readonly lastMessageAt: Date;
  readonly inboundCount: number;
  readonly outboundCount: number;
  /** The customer's last message. */
  readonly lastInboundAt?: Date;
  /** The business's last message. */
  readonly lastOutboundAt?: Date;
  /** The customer's last message has no business message at or after it. */
  readonly hasUnanswered: boolean;
  /** Sessions (see sessions.ts). */
  readonly sessionCount: number;
  readonly sentiment: SentimentSummary;
}

/** `hasUnanswered` of a summary: the customer wrote last (a business message at the same instant answers it). */
export function isUnanswered(lastInboundAt: Date | undefined, lastOutboundAt: Date | undefined): boolean {
  return lastInboundAt !== undefined && (lastOutboundAt === undefined || lastOutboundAt.getTime() < lastInboundAt.getTime());
}

/** Filters of listConversations / conversations; absent fields do not filter. */
export interface ConversationFilter {
  readonly customer?: string;
  readonly phoneNumberId?: string;
  /** Conversations with a message at or after `from` ... */
  readonly from?: Date;
  /** ... and before `to`. */
  readonly to?: Date;
  /** true: only conversations whose customer's last message is unanswered. */
  readonly hasUnanswered?: boolean;
  /** Only conversations whose latest scored customer message has this label. */
  readonly sentiment?: SentimentLabel;
}

/** Where a listConversations page continues: after this conversation, most recently active first. */
export interface ConversationCursor {
  readonly lastMessageAt: Date;
  readonly conversationId: string;
}

/** A page request: at most `size` items after `after` (from the start without it). */
export interface PageRequest<C> {
  readonly size: number;
  readonly after?: C;
}

/** One page; `next` is absent on the last page. */
export interface Page<T, C> {
  readonly items: readonly T[];
  readonly next?: C;
}

/**
 * The page of `items` (at most the page's size, from a read of one more): when that read found more, `next` is the
 * cursor of the last item, else the page is the last. Pure; every store adapter pages this way.
 */
export function pageOf<T, C>(items: readonly T[], foundMore: boolean, cursorOf: (last: T) => C): Page<T, C> {
  const last = items.at(-1);
  return { items, ...(foundMore && last !== undefined ? { next: cursorOf(last) } : {}) };
}

/** Where a listConversations page continues after `summary`. */
export function conversationCursorOf(summary: Pick<ConversationCursor, 'lastMessageAt' | 'conversationId'>): ConversationCursor {
  return { lastMessageAt: summary.lastMessageAt, conversationId: summary.conversationId };
}

/** A time range: from inclusive, to exclusive; absent ends are open. */
export interface TimeRange {
  readonly from?: Date;
  readonly to?: Date;
}

/** Where a transcript page continues: after the message with this time and record id (the archive's order). */
export interface TranscriptCursor {
  readonly occurredAt: Date;
  readonly recordId: string;
}

/** Where a transcript page continues after `entry`. */
export function transcriptCursorOf(entry: Pick<TranscriptCursor, 'occurredAt' | 'recordId'>): TranscriptCursor {
  return { occurredAt: entry.occurredAt, recordId: entry.recordId };
}

/** A transcript entry with its session (the store computes it while paging, from each message's session start). */
export interface TranscriptMessageEntry extends TranscriptEntry {
  /** 0-based session of the conversation (see sessions.ts). */
  readonly sessionIndex: number;
}

/** What folding one new message into a summary needs to know of it. */
export interface SummaryFacts {
  readonly direction: Direction;
  readonly occurredAt: Date;
  /** Its sentiment, when scored (label set). */
  readonly sentiment?: Sentiment;
}

/** A summary's sentiment end points with their times (the stores keep the times to place late messages). */
export interface SentimentPoints {
  readonly start?: { readonly sentiment: Sentiment; readonly at: Date };
  readonly end?: { readonly sentiment: Sentiment; readonly at: Date };
  readonly scoredMessages: number;
}

/**
 * Folds one newly archived message into the sentiment points. A message scored only if its sentiment has a label;
 * a message older than the start becomes the start, one at or after the end the end (messages can arrive late).
 */
export function foldSentiment(points: SentimentPoints, facts: SummaryFacts): SentimentPoints {
  const sentiment = facts.sentiment;
  if (facts.direction !== 'inbound' || sentiment?.label === undefined) return points;
  const at = facts.occurredAt;
  return {
    start: points.start === undefined || at.getTime() < points.start.at.getTime() ? { sentiment, at } : points.start,
    end: points.end === undefined || at.getTime() >= points.end.at.getTime() ? { sentiment, at } : points.end,
    scoredMessages: points.scoredMessages + 1,
  };
}
