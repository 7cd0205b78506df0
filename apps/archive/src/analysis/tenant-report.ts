import type { Sentiment, TranscriptEntry } from '../domain/transcript';
import { ConversationMetricsAccumulator } from './conversation-metrics';
import { addPrice, emptyCost, type CostTotal, type RateCard } from './cost';
import { percentile } from './percentile';
import { evaluateConversation, keywordsOf, type Scorecard } from './scorecard';

/**
 * A tenant's report (issue 13, GetTenantReport): its conversations aggregated in daily UTC buckets over a time range
 * of at most {@link MAX_REPORT_DAYS} days. Each conversation is walked once, oldest first, from its beginning (a
 * session's boundaries depend on what came before the range) up to the end of the range; only what happened inside
 * the range is counted. Memory: the buckets, plus one first response time per session started in the range.
 */

/** The longest range a report covers. */
export const MAX_REPORT_DAYS = 366;
const DAY_MS = 86_400_000;

/** One UTC day's aggregate. */
export interface DailyReport {
  /** YYYY-MM-DD. */
  readonly date: string;
  /** Conversations with a message that day. */
  readonly conversations: number;
  readonly inboundMessages: number;
  readonly outboundMessages: number;
  /** Of sessions that started that day. */
  readonly firstResponseP50Ms?: number;
  readonly firstResponseP90Ms?: number;
  /** Sessions that started that day whose window closed while the customer waited. */
  readonly windowsClosedWhileWaiting: number;
  /** Mean scorecard score of the conversations active that day; absent without a scorecard or without any. */
  readonly meanScore?: number;
  /** Billable messages by the day Meta priced them (their first status with pricing). */
  readonly cost: CostTotal;
  readonly positiveMessages: number;
  readonly neutralMessages: number;
  readonly negativeMessages: number;
}

/** A report range that cannot be served, naming the request field. */
export class ReportRangeError extends Error {
  override readonly name = 'ReportRangeError';
  constructor(
    readonly field: 'from' | 'to',
    message: string,
  ) {
    super(message);
  }
}

/** Checks a report range: both ends set, `from` before `to`, at most {@link MAX_REPORT_DAYS} days apart. */
export function checkReportRange(from: Date | undefined, to: Date | undefined): { from: Date; to: Date } {
  if (from === undefined || Number.isNaN(from.getTime())) throw new ReportRangeError('from', 'is required');
  if (to === undefined || Number.isNaN(to.getTime())) throw new ReportRangeError('to', 'is required');
  if (to.getTime() <= from.getTime()) throw new ReportRangeError('to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * DAY_MS)
    throw new ReportRangeError('to', `must be at most ${MAX_REPORT_DAYS} days after from`);
  return { from, to };
}

interface Bucket {
  conversations: number;
  inbound: number;
  outbound: number;
  firstResponses: number[];
  windowsClosed: number;
  scoreSum: number;
  scored: number;
  cost: CostTotal;
  positive: number;
  neutral: number;
  negative: number;
}

/** Builds the report: one {@link ConversationReportWalker} per conversation, then {@link TenantReportBuilder.finish}. */
export class TenantReportBuilder {
  private readonly firstDay: number;
  private readonly buckets: Bucket[];
  private readonly keywords: readonly string[];

  constructor(
    readonly options: {
      readonly from: Date;
      readonly to: Date;
      readonly rateCard?: RateCard;
      readonly scorecard?: Scorecard;
      readonly now: Date;
    },
  ) {
    const range = checkReportRange(options.from, options.to);
    this.firstDay = Math.floor(range.from.getTime() / DAY_MS);
    const lastDay = Math.ceil(range.to.getTime() / DAY_MS);
    this.buckets = Array.from({ length: lastDay - this.firstDay }, () => ({
      conversations: 0,
      inbound: 0,
      outbound: 0,
      firstResponses: [],
      windowsClosed: 0,
      scoreSum: 0,
      scored: 0,
      cost: emptyCost(options.rateCard),
      positive: 0,
      neutral: 0,
      negative: 0,
    }));
    this.keywords = options.scorecard ? keywordsOf(options.scorecard) : [];
  }

  /** The bucket of an instant inside the range, else undefined. */
  bucketAt(time: Date): Bucket | undefined {
    const at = time.getTime();
    if (at < this.options.from.getTime() || at >= this.options.to.getTime()) return undefined;
    return this.buckets[Math.floor(at / DAY_MS) - this.firstDay];
  }

  /** Starts a conversation's walk; `country` is its customer's, for the rate card. */
  conversation(country: string | undefined): ConversationReportWalker {
    return new ConversationReportWalker(
      this,
      new ConversationMetricsAccumulator({ ...this.options, ...(country ? { country } : {}), keywords: this.keywords }),
    );
  }

  /** The buckets, oldest first. */
  finish(): DailyReport[] {
    return this.buckets.map((bucket, index) => {
      const p50 = percentile(bucket.firstResponses, 50);
      const p90 = percentile(bucket.firstResponses, 90);
      return {
        date: new Date((this.firstDay + index) * DAY_MS).toISOString().slice(0, 10),
        conversations: bucket.conversations,
        inboundMessages: bucket.inbound,
        outboundMessages: bucket.outbound,
        ...(p50 !== undefined ? { firstResponseP50Ms: p50 } : {}),
        ...(p90 !== undefined ? { firstResponseP90Ms: p90 } : {}),
        windowsClosedWhileWaiting: bucket.windowsClosed,
        ...(bucket.scored > 0 ? { meanScore: bucket.scoreSum / bucket.scored } : {}),
        cost: bucket.cost,
        positiveMessages: bucket.positive,
        neutralMessages: bucket.neutral,
        negativeMessages: bucket.negative,
      };
    });
  }
}

/** One conversation's walk for the report. */
export class ConversationReportWalker {
  private readonly activeDays = new Set<Bucket>();

  constructor(
    private readonly report: TenantReportBuilder,
    private readonly metrics: ConversationMetricsAccumulator,
  ) {}

  /** Adds the conversation's next message (oldest first, from its beginning); `sentiment` overrides the entry's. */
  add(entry: TranscriptEntry, sentiment: Sentiment | undefined = entry.sentiment): void {
    const { price } = this.metrics.add(entry, sentiment);
    if (price.kind === 'priced' || price.kind === 'unpriced') {
      const priceBucket = this.report.bucketAt(price.at);
      if (priceBucket) addPrice(priceBucket.cost, price);
    }
    const bucket = this.report.bucketAt(entry.occurredAt);
    if (bucket === undefined) return;
    this.activeDays.add(bucket);
    if (entry.direction === 'outbound') {
      bucket.outbound += 1;
      return;
    }
    bucket.inbound += 1;
    if (sentiment?.label === 'positive') bucket.positive += 1;
    else if (sentiment?.label === 'neutral') bucket.neutral += 1;
    else if (sentiment?.label === 'negative') bucket.negative += 1;
  }

  /** Ends the walk: sessions and the score go to their days. */
  finish(): void {
    const metrics = this.metrics.finish();
    for (const session of metrics.sessions) {
      const bucket = this.report.bucketAt(session.startedAt);
      if (bucket === undefined) continue;
      if (session.firstResponseMs !== undefined) bucket.firstResponses.push(session.firstResponseMs);
      if (session.closedWhileWaiting) bucket.windowsClosed += 1;
    }
    const scorecard = this.report.options.scorecard;
    const score = scorecard ? evaluateConversation(scorecard, metrics, this.report.options.now).score : undefined;
    for (const bucket of this.activeDays) {
      bucket.conversations += 1;
      if (score !== undefined) {
        bucket.scoreSum += score;
        bucket.scored += 1;
      }
    }
  }
}
