import type { ConversationMetrics } from './conversation-metrics';

/**
 * Chat evaluation (issue 13): a tenant's scorecard, weighted criteria over a conversation's metrics. The score is
 * the weighted share of criteria met, 0-100; each criterion says why in words, never quoting a message.
 */

interface CriterionBase {
  /** Unique within the scorecard. */
  readonly name: string;
  /** Positive; the criterion's share of the score is its weight over the sum of weights. */
  readonly weight: number;
}

/** One criterion of a scorecard. */
export type ScorecardCriterion =
  /** Every session's first reply came within `minutes` of the customer's first message. */
  | (CriterionBase & { readonly kind: 'firstReplyWithin'; readonly minutes: number })
  /** No session's window closed with the customer's last message unanswered. */
  | (CriterionBase & { readonly kind: 'noWindowClosedWhileWaiting' })
  /** The customer's sentiment did not get worse from the first scored message to the last (the trend). */
  | (CriterionBase & { readonly kind: 'sentimentNotWorse' })
  /** Business messages contain every (`all`, the default) or at least one (`any`) of the keywords. */
  | (CriterionBase & { readonly kind: 'keywordsRequired'; readonly keywords: readonly string[]; readonly match?: 'all' | 'any' })
  /** No business message contains any of the keywords. */
  | (CriterionBase & { readonly kind: 'keywordsForbidden'; readonly keywords: readonly string[] });

/** A tenant's scorecard. */
export interface Scorecard {
  readonly name: string;
  readonly criteria: readonly ScorecardCriterion[];
}

/** One criterion's outcome. */
export interface CriterionResult {
  readonly name: string;
  readonly weight: number;
  /** A criterion that does not apply (no customer message, say) counts as met. */
  readonly passed: boolean;
  readonly reason: string;
}

/** A conversation's evaluation. */
export interface Evaluation {
  readonly scorecard: string;
  /** 0-100, rounded: the weighted share of criteria met. */
  readonly score: number;
  readonly criteria: readonly CriterionResult[];
}

/** Every keyword the scorecard's criteria watch (for {@link ConversationMetricsOptions.keywords}). */
export function keywordsOf(scorecard: Scorecard): string[] {
  const keywords = new Set<string>();
  for (const criterion of scorecard.criteria) {
    if (criterion.kind === 'keywordsRequired' || criterion.kind === 'keywordsForbidden') criterion.keywords.forEach((k) => keywords.add(k));
  }
  return [...keywords];
}

/** "1 h 2 min 3 s", "42 s", "850 ms": durations in a reason. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  const totalSeconds = Math.round(ms / 1_000);
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  return [hours ? `${hours} h` : '', minutes ? `${minutes} min` : '', seconds || (!hours && !minutes) ? `${seconds} s` : '']
    .filter(Boolean)
    .join(' ');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function firstReplyWithin(minutes: number, metrics: ConversationMetrics, now: Date): { passed: boolean; reason: string } {
  const limitMs = minutes * 60_000;
  const asked = metrics.sessions.filter((session) => session.firstCustomerAt !== undefined);
  if (asked.length === 0) return { passed: true, reason: 'no customer message to answer' };
  let late = 0;
  let unanswered = 0;
  let slowest = 0;
  for (const session of asked) {
    if (session.firstResponseMs !== undefined) {
      slowest = Math.max(slowest, session.firstResponseMs);
      if (session.firstResponseMs > limitMs) late += 1;
    } else if (now.getTime() - (session.firstCustomerAt as Date).getTime() > limitMs) {
      unanswered += 1;
    }
  }
  const within = `within ${minutes} min`;
  if (late === 0 && unanswered === 0) {
    return { passed: true, reason: `first reply ${within} in ${plural(asked.length, 'session')} (slowest ${formatDuration(slowest)})` };
  }
  const problems = [
    late ? `${late} answered later (slowest ${formatDuration(slowest)})` : '',
    unanswered ? `${unanswered} not answered` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return { passed: false, reason: `first reply not ${within} in ${late + unanswered} of ${plural(asked.length, 'session')}: ${problems}` };
}

function evaluateCriterion(criterion: ScorecardCriterion, metrics: ConversationMetrics, now: Date): { passed: boolean; reason: string } {
  switch (criterion.kind) {
    case 'firstReplyWithin':
      return firstReplyWithin(criterion.minutes, metrics, now);
    case 'noWindowClosedWhileWaiting': {
      const closed = metrics.windowsClosedWhileWaiting;
      return closed === 0
        ? { passed: true, reason: 'no customer-service window closed while the customer waited' }
        : { passed: false, reason: `${plural(closed, 'window')} closed with the customer's last message unanswered` };
    }
    case 'sentimentNotWorse': {
      const { trend, scoredMessages } = metrics.sentiment;
      if (trend === undefined) return { passed: true, reason: `not applicable: ${plural(scoredMessages, 'scored customer message')}` };
      return trend === 'worsening'
        ? { passed: false, reason: 'customer sentiment worsened from the first scored message to the last' }
        : { passed: true, reason: `customer sentiment ${trend === 'improving' ? 'improved' : 'stayed stable'}` };
    }
    case 'keywordsRequired': {
      const found = criterion.keywords.filter((keyword) => (metrics.keywordHits.get(keyword) ?? 0) > 0);
      const missing = criterion.keywords.filter((keyword) => !found.includes(keyword));
      const passed = criterion.match === 'any' ? found.length > 0 : missing.length === 0;
      if (passed) return { passed, reason: `business messages contain ${found.map((k) => JSON.stringify(k)).join(', ')}` };
      return {
        passed,
        reason: `no business message contains ${(criterion.match === 'any' ? 'any of ' : '') + missing.map((k) => JSON.stringify(k)).join(', ')}`,
      };
    }
    case 'keywordsForbidden': {
      const found = criterion.keywords.filter((keyword) => (metrics.keywordHits.get(keyword) ?? 0) > 0);
      if (found.length === 0) return { passed: true, reason: 'no business message contains a forbidden keyword' };
      const counts = found.map((keyword) => `${JSON.stringify(keyword)} in ${plural(metrics.keywordHits.get(keyword) ?? 0, 'message')}`);
      return { passed: false, reason: `forbidden keywords in business messages: ${counts.join(', ')}` };
    }
  }
}

/**
 * Evaluates a conversation's metrics (computed with {@link keywordsOf} the scorecard's keywords) against the
 * scorecard at `now` (a first reply still within its time is not late yet).
 */
export function evaluateConversation(scorecard: Scorecard, metrics: ConversationMetrics, now: Date): Evaluation {
  const criteria = scorecard.criteria.map((criterion) => ({
    name: criterion.name,
    weight: criterion.weight,
    ...evaluateCriterion(criterion, metrics, now),
  }));
  const total = criteria.reduce((sum, criterion) => sum + criterion.weight, 0);
  const met = criteria.reduce((sum, criterion) => sum + (criterion.passed ? criterion.weight : 0), 0);
  return { scorecard: scorecard.name, score: total > 0 ? Math.round((100 * met) / total) : 100, criteria };
}
