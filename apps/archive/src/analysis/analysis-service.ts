import { InvalidArgumentError, NotFoundError, validateId, type Clock } from '@waygate/domain';
import type { Sentiment, TranscriptEntry } from '../domain/transcript';
import { countryOfE164 } from './calling-codes';
import { ConversationMetricsAccumulator, type ConversationMetrics } from './conversation-metrics';
import type { RateCard } from './cost';
import { evaluateConversation, keywordsOf, type Evaluation, type Scorecard } from './scorecard';
import type { AnalyzeText } from './text-analysis';
import { checkReportRange, ReportRangeError, TenantReportBuilder, type DailyReport } from './tenant-report';

/**
 * GetConversationMetrics and GetTenantReport, over the archive's read API (the port below, which the archive store
 * implements). Each conversation is walked once through the store's paged transcript, never loaded whole.
 */

/** What the analysis needs of a conversation summary. */
export interface ConversationRef {
  readonly conversationId: string;
  /** E.164: gives the country for the rate card. Never logged. */
  readonly customer: string;
}

/** Port: the archive's read API (the store). */
export interface AnalysisReader<C extends ConversationRef> {
  getConversation(tenantId: string, conversationId: string): Promise<C | undefined>;
  /** The conversation's messages, oldest first, read in bounded pages; `to` is exclusive. */
  transcript(tenantId: string, conversationId: string, range: { readonly to?: Date }): AsyncIterable<TranscriptEntry>;
  /** The tenant's conversations with a message in [from, to), optionally of one business number, in bounded pages. */
  conversations(tenantId: string, filter: { readonly phoneNumberId?: string; readonly from: Date; readonly to: Date }): AsyncIterable<C>;
}

/** A tenant's analysis settings (from the tenants file). */
export interface AnalysisSettings {
  readonly rateCard?: RateCard;
  readonly scorecard?: Scorecard;
}

export interface AnalysisServiceDeps<C extends ConversationRef> {
  readonly reader: AnalysisReader<C>;
  readonly settingsOf: (tenantId: string) => AnalysisSettings | undefined;
  /** Scores customer texts archived before analysis ran (or while it was off); absent: they stay unscored. */
  readonly analyzeText?: AnalyzeText;
  readonly clock: Clock;
}

/** One conversation's analysis. */
export interface ConversationAnalysis<C> {
  readonly conversation: C;
  readonly metrics: ConversationMetrics;
  /** Absent when the tenant has no scorecard. */
  readonly evaluation?: Evaluation;
}

export interface AnalysisService<C extends ConversationRef> {
  /** NotFoundError for an unknown conversation or another tenant's; InvalidArgumentError for a malformed id. */
  conversationMetrics(tenantId: string, conversationId: string): Promise<ConversationAnalysis<C>>;
  /** InvalidArgumentError naming `from` or `to` for a missing, reversed or too long range. */
  tenantReport(tenantId: string, request: { from?: Date; to?: Date; phoneNumberId?: string }): Promise<DailyReport[]>;
}

export function createAnalysisService<C extends ConversationRef>(deps: AnalysisServiceDeps<C>): AnalysisService<C> {
  const { reader, settingsOf, analyzeText, clock } = deps;

  /** The entry's own sentiment, or the analysis of a customer text that has none yet. */
  async function sentimentOf(entry: TranscriptEntry): Promise<Sentiment | undefined> {
    if (entry.sentiment !== undefined || entry.direction !== 'inbound' || !entry.text || analyzeText === undefined) return entry.sentiment;
    return analyzeText(entry.text);
  }

  return {
    async conversationMetrics(tenantId, conversationId) {
      validateId('conversation_id', conversationId);
      const conversation = await reader.getConversation(tenantId, conversationId);
      if (conversation === undefined) throw new NotFoundError('conversation', conversationId);
      const settings = settingsOf(tenantId) ?? {};
      const now = clock.now();
      const country = countryOfE164(conversation.customer);
      const accumulator = new ConversationMetricsAccumulator({
        now,
        ...(country ? { country } : {}),
        ...(settings.rateCard ? { rateCard: settings.rateCard } : {}),
        keywords: settings.scorecard ? keywordsOf(settings.scorecard) : [],
      });
      for await (const entry of reader.transcript(tenantId, conversationId, {})) accumulator.add(entry, await sentimentOf(entry));
      const metrics = accumulator.finish();
      return {
        conversation,
        metrics,
        ...(settings.scorecard ? { evaluation: evaluateConversation(settings.scorecard, metrics, now) } : {}),
      };
    },

    async tenantReport(tenantId, request) {
      let range: { from: Date; to: Date };
      try {
        range = checkReportRange(request.from, request.to);
      } catch (error) {
        if (!(error instanceof ReportRangeError)) throw error;
        throw new InvalidArgumentError([
          { field: error.field, reason: error.message === 'is required' ? 'REQUIRED' : 'OUT_OF_RANGE', description: error.message },
        ]);
      }
      if (request.phoneNumberId) validateId('phone_number_id', request.phoneNumberId);
      const settings = settingsOf(tenantId) ?? {};
      const report = new TenantReportBuilder({ ...range, now: clock.now(), ...settings });
      const filter = { ...range, ...(request.phoneNumberId ? { phoneNumberId: request.phoneNumberId } : {}) };
      for await (const conversation of reader.conversations(tenantId, filter)) {
        const walker = report.conversation(countryOfE164(conversation.customer));
        for await (const entry of reader.transcript(tenantId, conversation.conversationId, { to: range.to }))
          walker.add(entry, await sentimentOf(entry));
        walker.finish();
      }
      return report.finish();
    },
  };
}
