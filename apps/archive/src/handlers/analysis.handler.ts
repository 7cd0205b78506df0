import { unaryHandler } from '@waygate/grpc';
import {
  type ArchiveServiceServer,
  type Cost as CostMessage,
  type DailyBucket,
  type GetConversationMetricsRequest,
  type GetConversationMetricsResponse,
  type GetTenantReportRequest,
  type GetTenantReportResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { AnalysisService } from '../analysis/analysis-service';
import type { CostTotal } from '../analysis/cost';
import type { DailyReport } from '../analysis/tenant-report';
import type { ConversationSummary } from '../domain/conversation';
import { toProtoConversation, toProtoSentimentSummary } from './transcript-proto';

/** gRPC GetConversationMetrics and GetTenantReport: proto <-> the analysis service (validation is the service's). */

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
