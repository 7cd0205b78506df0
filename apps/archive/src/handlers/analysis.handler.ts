import { unaryHandler } from '@waygate/grpc';
import {
  SentimentLabel,
  SentimentTrend,
  type ArchiveServiceServer,
  type Conversation as ConversationMessage,
  type Cost as CostMessage,
  type DailyBucket,
  type GetConversationMetricsRequest,
  type GetConversationMetricsResponse,
  type GetTenantReportRequest,
  type GetTenantReportResponse,
  type ArchiveSentiment as SentimentMessage,
  type SentimentSummary as SentimentSummaryMessage,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { AnalysisService } from '../analysis/analysis-service';
import type { CostTotal } from '../analysis/cost';
import type { DailyReport } from '../analysis/tenant-report';
import type { ConversationSummary, SentimentSummary } from '../domain/conversation';
import type { Sentiment } from '../domain/transcript';

/** gRPC GetConversationMetrics and GetTenantReport: proto <-> the analysis service (validation is the service's). */

const LABELS = {
  positive: SentimentLabel.SENTIMENT_LABEL_POSITIVE,
  neutral: SentimentLabel.SENTIMENT_LABEL_NEUTRAL,
  negative: SentimentLabel.SENTIMENT_LABEL_NEGATIVE,
} as const;
const TRENDS = {
  improving: SentimentTrend.SENTIMENT_TREND_IMPROVING,
  stable: SentimentTrend.SENTIMENT_TREND_STABLE,
  worsening: SentimentTrend.SENTIMENT_TREND_WORSENING,
} as const;

function toProtoSentiment(sentiment: Sentiment | undefined): SentimentMessage | undefined {
  if (sentiment === undefined) return undefined;
  return {
    language: sentiment.language ?? '',
    score: sentiment.score ?? 0,
    label: sentiment.label ? LABELS[sentiment.label] : SentimentLabel.SENTIMENT_LABEL_UNSPECIFIED,
  };
}

function toProtoSentimentSummary(summary: SentimentSummary): SentimentSummaryMessage {
  return {
    start: toProtoSentiment(summary.start),
    end: toProtoSentiment(summary.end),
    trend: summary.trend ? TRENDS[summary.trend] : SentimentTrend.SENTIMENT_TREND_UNSPECIFIED,
    scoredMessages: summary.scoredMessages,
  };
}

/** A conversation summary as the RPCs return it (`score`: the scorecard's, when the tenant has one). */
function toProtoConversation(conversation: ConversationSummary, score: number | undefined): ConversationMessage {
  return {
    conversationId: conversation.conversationId,
    phoneNumberId: conversation.phoneNumberId,
    customer: conversation.customer,
    firstMessageAt: conversation.firstMessageAt,
    lastMessageAt: conversation.lastMessageAt,
    inboundCount: conversation.inboundCount,
    outboundCount: conversation.outboundCount,
    hasUnanswered: conversation.hasUnanswered,
    sessionCount: conversation.sessionCount,
    sentiment: toProtoSentimentSummary(conversation.sentiment),
    ...(score !== undefined ? { score } : {}),
  };
}

function toProtoCost(cost: CostTotal): CostMessage {
  return {
    currency: cost.currency,
    amountMicros: String(cost.amountMicros),
    billableMessages: cost.billableMessages,
    billableByCategory: { ...cost.billableByCategory },
    unpricedMessages: cost.unpricedMessages,
  };
}

/** An optional int64 duration (milliseconds) as ts-proto carries it. */
function ms(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function toProtoDay(day: DailyReport): DailyBucket {
  return {
    date: day.date,
    conversations: day.conversations,
    inboundMessages: day.inboundMessages,
    outboundMessages: day.outboundMessages,
    firstResponseP50Ms: ms(day.firstResponseP50Ms),
    firstResponseP90Ms: ms(day.firstResponseP90Ms),
    windowsClosedWhileWaiting: day.windowsClosedWhileWaiting,
    meanScore: day.meanScore,
    cost: toProtoCost(day.cost),
    positiveMessages: day.positiveMessages,
    neutralMessages: day.neutralMessages,
    negativeMessages: day.negativeMessages,
  };
}

/** The two analysis RPCs of ArchiveService. */
export function createAnalysisHandlers(
  analysis: AnalysisService<ConversationSummary>,
  tenants: TenantDirectory,
  logger: Logger,
): Pick<ArchiveServiceServer, 'getConversationMetrics' | 'getTenantReport'> {
  return {
    getConversationMetrics: unaryHandler<GetConversationMetricsRequest, GetConversationMetricsResponse>(
      tenants,
      logger,
      async (request, tenant) => {
        const { conversation, metrics, evaluation } = await analysis.conversationMetrics(tenant.id, request.conversationId);
        return {
          conversation: toProtoConversation(conversation, evaluation?.score),
          firstResponseMs: ms(metrics.firstResponseMs),
          responseP50Ms: ms(metrics.responseP50Ms),
          responseP90Ms: ms(metrics.responseP90Ms),
          windowsClosedWhileWaiting: metrics.windowsClosedWhileWaiting,
          readToReplyP50Ms: ms(metrics.readToReplyP50Ms),
          inboundCount: metrics.inboundCount,
          outboundCount: metrics.outboundCount,
          sessionCount: metrics.sessionCount,
          cost: toProtoCost(metrics.cost),
          sentiment: toProtoSentimentSummary(metrics.sentiment),
          evaluation: evaluation
            ? {
                scorecard: evaluation.scorecard,
                score: evaluation.score,
                criteria: evaluation.criteria.map((criterion) => ({ ...criterion })),
              }
            : undefined,
        };
      },
    ),
    getTenantReport: unaryHandler<GetTenantReportRequest, GetTenantReportResponse>(tenants, logger, async (request, tenant) => {
      const days = await analysis.tenantReport(tenant.id, {
        ...(request.from ? { from: request.from } : {}),
        ...(request.to ? { to: request.to } : {}),
        ...(request.phoneNumberId ? { phoneNumberId: request.phoneNumberId } : {}),
      });
      return { days: days.map(toProtoDay) };
    }),
  };
}
