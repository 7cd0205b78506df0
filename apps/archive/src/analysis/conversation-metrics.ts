import type { MessageStatus } from '@waygate/domain';
import { sentimentTrendOf, type SentimentSummary } from '../domain/conversation';
import { CUSTOMER_SERVICE_WINDOW_MS, nextSessionState, startsSession, type SessionState } from '../domain/sessions';
import type { Sentiment, TranscriptEntry } from '../domain/transcript';
import { addPrice, emptyCost, priceMessage, type CostTotal, type MessagePrice, type RateCard } from './cost';
import { containsKeyword, foldText, prepareKeyword, type Keyword } from './keywords';
import { percentile } from './percentile';

/**
 * A conversation's metrics (issue 13, "Metrics per conversation"), computed in one pass over its transcript, oldest
 * first, so that a conversation of any length is walked in bounded pages. Memory grows only with what percentiles
 * need: one duration per answered turn, one record per session and the READ times still waiting for a customer
 * message.
 *
 * Definitions (the README's "Analysis" section repeats them):
 * - **Session**: the archive's rule (domain/sessions.ts, the same one the store applies): a new session starts at the
 *   first message, at a customer message while the customer-service window is closed (24 h after the customer's
 *   last message, or before the customer ever wrote), and at a business template sent while it is closed.
 * - **Customer turn**: a run of consecutive customer messages inside one session, starting at the first of them.
 *   Reactions, edits, revokes and system messages neither open a turn nor answer one ({@link isConversational}).
 *   A turn is **answered** by the first business message after it in the same session that did not fail (its latest
 *   status is not FAILED, EXPIRED or CANCELED: the customer never got it); its **response time** is from the turn's
 *   first message to that answer.
 * - **First response time** of a session: the response time of its first turn. The conversation's is the first
 *   session's that had an answered turn.
 * - **Window closed while waiting**: a session whose customer's last message had no answer before the window closed
 *   (no answer at all, with the window closed by `now` or by the next session; or an answer only after it closed).
 * - **Read-to-reply**: from a business message being READ to the customer's next message (one sample per customer
 *   message, from the earliest READ since the customer's previous message).
 */

/** Message types that neither open nor answer a turn: they react to, change or annotate another message. */
const NON_CONVERSATIONAL_TYPES: ReadonlySet<string> = new Set(['reaction', 'edit', 'revoke', 'system']);
/** Latest statuses of a business message that never reached the customer. */
const UNDELIVERED: ReadonlySet<MessageStatus> = new Set<MessageStatus>(['FAILED', 'EXPIRED', 'CANCELED']);

/** Whether a message opens (inbound) or answers (outbound) a turn. */
export function isConversational(entry: TranscriptEntry): boolean {
  if (NON_CONVERSATIONAL_TYPES.has(entry.type)) return false;
  return entry.direction === 'inbound' || entry.status === undefined || !UNDELIVERED.has(entry.status);
}

/** One session of a conversation. */
export interface SessionMetrics {
  readonly index: number;
  readonly startedAt: Date;
  /** The session's first customer message that opened a turn, if any. */
  readonly firstCustomerAt?: Date;
  /** Its first turn's response time, when answered. */
  readonly firstResponseMs?: number;
  readonly closedWhileWaiting: boolean;
}

/** A conversation's metrics. */
export interface ConversationMetrics {
  readonly inboundCount: number;
  readonly outboundCount: number;
  readonly sessionCount: number;
  readonly sessions: readonly SessionMetrics[];
  readonly firstResponseMs?: number;
  readonly responseP50Ms?: number;
  readonly responseP90Ms?: number;
  readonly windowsClosedWhileWaiting: number;
  readonly readToReplyP50Ms?: number;
  readonly cost: CostTotal;
  readonly sentiment: SentimentSummary;
  /** For each watched keyword (as configured), how many business messages contain it. */
  readonly keywordHits: ReadonlyMap<string, number>;
}

/** What the metrics need besides the transcript. */
export interface ConversationMetricsOptions {
  /** The customer's country (ISO 3166-1 alpha-2) for the rate card, when known. */
  readonly country?: string;
  readonly rateCard?: RateCard;
  /** Keywords to count in business messages (the scorecard's). */
  readonly keywords?: readonly string[];
  /** "Now": decides whether the last session's window has closed. */
  readonly now: Date;
}

interface OpenSession {
  index: number;
  startedAt: Date;
  firstCustomerAt?: Date;
  firstResponseMs?: number;
  closedWhileWaiting: boolean;
  /** Start of the turn waiting for an answer. */
  openTurnAt?: Date;
  /** When the window closes for the customer's last message of this session. */
  windowClosesAt?: number;
}

/**
 * Accumulates one conversation's metrics, message by message, oldest first (by `occurredAt`). `add` is
 * synchronous and cheap; `finish` sorts the durations for the percentiles.
 */
export class ConversationMetricsAccumulator {
  private inbound = 0;
  private outbound = 0;
  private readonly sessions: SessionMetrics[] = [];
  private session: OpenSession | undefined;
  private sessionState: SessionState | undefined;
  private readonly turnDurations: number[] = [];
  private readonly readToReply: number[] = [];
  /** READ times of business messages not yet followed by a customer message. */
  private pendingReads: number[] = [];
  private readonly cost: CostTotal;
  private sentimentStart: Sentiment | undefined;
  private sentimentEnd: Sentiment | undefined;
  private scored = 0;
  private readonly keywords: readonly Keyword[];
  private readonly keywordHits = new Map<string, number>();

  constructor(private readonly options: ConversationMetricsOptions) {
    this.cost = emptyCost(options.rateCard);
    this.keywords = (options.keywords ?? []).map(prepareKeyword);
    for (const { keyword } of this.keywords) this.keywordHits.set(keyword, 0);
  }

  /**
   * Adds the next message. `sentiment` overrides the entry's own (for a customer text analysed on the fly). Returns
   * the message's price and its session index, for callers that bucket by day.
   */
  add(entry: TranscriptEntry, sentiment: Sentiment | undefined = entry.sentiment): { price: MessagePrice; sessionIndex: number } {
    const at = entry.occurredAt.getTime();
    if (startsSession(this.sessionState, entry)) this.startSession(entry.occurredAt);
    this.sessionState = nextSessionState(this.sessionState, entry);
    const session = this.session as OpenSession;

    let price: MessagePrice = { kind: 'none' };
    if (entry.direction === 'inbound') {
      this.inbound += 1;
      this.addCustomerMessage(session, entry, at, sentiment);
    } else {
      this.outbound += 1;
      this.addBusinessMessage(session, entry, at);
      price = priceMessage(entry, this.options.country, this.options.rateCard);
      addPrice(this.cost, price);
    }
    return { price, sessionIndex: session.index };
  }

  private startSession(startedAt: Date): void {
    // The next session starts only once the window is closed, so the one before ended with its window closed.
    if (this.session) this.sessions.push(toSessionMetrics(this.session, true));
    this.session = { index: this.sessions.length, startedAt, closedWhileWaiting: false };
  }

  private addCustomerMessage(session: OpenSession, entry: TranscriptEntry, at: number, sentiment: Sentiment | undefined): void {
    // Every customer message (a reaction too) keeps the window open, as the session rule counts it.
    session.windowClosesAt = at + CUSTOMER_SERVICE_WINDOW_MS;
    if (this.pendingReads.length > 0) {
      // The earliest READ at or before this message; later READs wait for the customer's next message.
      const seen = this.pendingReads.filter((read) => read <= at);
      if (seen.length > 0) {
        this.readToReply.push(at - Math.min(...seen));
        this.pendingReads = this.pendingReads.filter((read) => read > at);
      }
    }
    if (isConversational(entry)) {
      session.firstCustomerAt ??= entry.occurredAt;
      session.openTurnAt ??= entry.occurredAt;
    }
    if (sentiment?.label !== undefined && sentiment.score !== undefined) {
      this.scored += 1;
      this.sentimentStart ??= sentiment;
      this.sentimentEnd = sentiment;
    }
  }

  private addBusinessMessage(session: OpenSession, entry: TranscriptEntry, at: number): void {
    const read = entry.statuses.find((status) => status.status === 'READ');
    if (read) this.pendingReads.push(read.occurredAt.getTime());
    if (this.keywords.length > 0 && entry.text) {
      const folded = foldText(entry.text);
      for (const keyword of this.keywords) {
        if (containsKeyword(folded, keyword)) this.keywordHits.set(keyword.keyword, (this.keywordHits.get(keyword.keyword) ?? 0) + 1);
      }
    }
    if (session.openTurnAt === undefined || !isConversational(entry)) return;
    const responseMs = at - session.openTurnAt.getTime();
    this.turnDurations.push(responseMs);
    // A turn ends only when answered, so the first answer of a session answers its first turn.
    session.firstResponseMs ??= responseMs;
    if (session.windowClosesAt !== undefined && at >= session.windowClosesAt) session.closedWhileWaiting = true;
    session.openTurnAt = undefined;
  }

  /** The metrics of everything added. */
  finish(): ConversationMetrics {
    const sessions = [...this.sessions];
    const open = this.session;
    if (open) {
      const closedByNow = open.windowClosesAt !== undefined && this.options.now.getTime() >= open.windowClosesAt;
      sessions.push(toSessionMetrics(open, closedByNow));
    }
    const firstAnswered = sessions.find((session) => session.firstResponseMs !== undefined);
    const responseP50Ms = percentile(this.turnDurations, 50);
    const responseP90Ms = percentile(this.turnDurations, 90);
    const readToReplyP50Ms = percentile(this.readToReply, 50);
    return {
      inboundCount: this.inbound,
      outboundCount: this.outbound,
      sessionCount: sessions.length,
      sessions,
      ...(firstAnswered?.firstResponseMs !== undefined ? { firstResponseMs: firstAnswered.firstResponseMs } : {}),
      ...(responseP50Ms !== undefined ? { responseP50Ms } : {}),
      ...(responseP90Ms !== undefined ? { responseP90Ms } : {}),
      windowsClosedWhileWaiting: sessions.filter((session) => session.closedWhileWaiting).length,
      ...(readToReplyP50Ms !== undefined ? { readToReplyP50Ms } : {}),
      cost: { ...this.cost, billableByCategory: { ...this.cost.billableByCategory } },
      sentiment: summarizeSentiment(this.sentimentStart, this.sentimentEnd, this.scored),
      keywordHits: new Map(this.keywordHits),
    };
  }
}

/** A session's record; `windowClosed` says its window is closed (by the next session, or by now). */
function toSessionMetrics(session: OpenSession, windowClosed: boolean): SessionMetrics {
  return {
    index: session.index,
    startedAt: session.startedAt,
    ...(session.firstCustomerAt ? { firstCustomerAt: session.firstCustomerAt } : {}),
    ...(session.firstResponseMs !== undefined ? { firstResponseMs: session.firstResponseMs } : {}),
    closedWhileWaiting: session.closedWhileWaiting || (session.openTurnAt !== undefined && windowClosed),
  };
}

/** The summary the store keeps too, with its trend rule (domain/conversation.ts). */
function summarizeSentiment(start: Sentiment | undefined, end: Sentiment | undefined, scored: number): SentimentSummary {
  if (start === undefined || end === undefined) return { scoredMessages: scored };
  const trend = sentimentTrendOf(start, end, scored);
  return { start, end, ...(trend ? { trend } : {}), scoredMessages: scored };
}

/** The metrics of a whole transcript held in memory (tests, small conversations). */
export function computeConversationMetrics(entries: Iterable<TranscriptEntry>, options: ConversationMetricsOptions): ConversationMetrics {
  const accumulator = new ConversationMetricsAccumulator(options);
  for (const entry of entries) accumulator.add(entry);
  return accumulator.finish();
}
