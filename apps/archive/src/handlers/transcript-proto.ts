import { toProtoStatus } from '@waygate/contracts';
import {
  Direction,
  MessageStatus,
  SentimentLabel,
  SentimentTrend,
  TemplateCategory,
  type ArchiveSentiment,
  type Conversation,
  type SentimentSummary as ProtoSentimentSummary,
  type TranscriptMessage,
} from '@waygate/proto';
import type { ConversationSummary, SentimentSummary, SentimentTrend as DomainTrend } from '../domain/conversation';
import type { Sentiment, SentimentLabel as DomainLabel, TranscriptEntry } from '../domain/transcript';

const LABELS: Readonly<Record<DomainLabel, SentimentLabel>> = {
  positive: SentimentLabel.SENTIMENT_LABEL_POSITIVE,
  neutral: SentimentLabel.SENTIMENT_LABEL_NEUTRAL,
  negative: SentimentLabel.SENTIMENT_LABEL_NEGATIVE,
};

const TRENDS: Readonly<Record<DomainTrend, SentimentTrend>> = {
  improving: SentimentTrend.SENTIMENT_TREND_IMPROVING,
  stable: SentimentTrend.SENTIMENT_TREND_STABLE,
  worsening: SentimentTrend.SENTIMENT_TREND_WORSENING,
};

const TEMPLATE_CATEGORIES: Readonly<Record<string, TemplateCategory>> = {
  MARKETING: TemplateCategory.TEMPLATE_CATEGORY_MARKETING,
  UTILITY: TemplateCategory.TEMPLATE_CATEGORY_UTILITY,
  AUTHENTICATION: TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION,
};

/**
 * The domain label of a wire SentimentLabel: undefined for UNSPECIFIED (no filter); 'unrecognized' for a value this
 * build does not know, which the domain refuses naming the field.
 */
export function fromProtoSentimentLabel(label: SentimentLabel): DomainLabel | 'unrecognized' | undefined {
  if (label === SentimentLabel.SENTIMENT_LABEL_UNSPECIFIED) return undefined;
  return (Object.keys(LABELS) as DomainLabel[]).find((key) => LABELS[key] === label) ?? 'unrecognized';
}

/** A sentiment on the wire (an unscored one has label UNSPECIFIED). */
export function toProtoSentiment(sentiment: Sentiment | undefined): ArchiveSentiment | undefined {
  if (!sentiment) return undefined;
  return {
    language: sentiment.language ?? '',
    score: sentiment.score ?? 0,
    label: sentiment.label ? LABELS[sentiment.label] : SentimentLabel.SENTIMENT_LABEL_UNSPECIFIED,
  };
}

/** A conversation's sentiment summary on the wire. */
export function toProtoSentimentSummary(summary: SentimentSummary): ProtoSentimentSummary {
  return {
    start: toProtoSentiment(summary.start),
    end: toProtoSentiment(summary.end),
    trend: summary.trend ? TRENDS[summary.trend] : SentimentTrend.SENTIMENT_TREND_UNSPECIFIED,
    scoredMessages: summary.scoredMessages,
  };
}

/**
 * A conversation summary on the wire. `score` is the tenant's scorecard result, which only the analysis computes
 * (GetConversationMetrics); ListConversations and GetTranscript leave it out.
 */
export function toProtoConversation(conversation: ConversationSummary, score?: number): Conversation {
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

/**
 * A transcript entry on the wire: what GetTranscript, SearchMessages and the JSONL export all show of a message.
 * `sessionIndex` is 0 when the entry carries none.
 */
export function toProtoTranscriptMessage(entry: TranscriptEntry & { readonly sessionIndex?: number }): TranscriptMessage {
  return {
    recordId: entry.recordId,
    messageId: entry.messageId,
    waMessageId: entry.waMessageId ?? '',
    direction: entry.direction === 'inbound' ? Direction.DIRECTION_INBOUND : Direction.DIRECTION_OUTBOUND,
    type: entry.type,
    occurredAt: entry.occurredAt,
    text: entry.text ?? '',
    contentJson: entry.contentJson ?? '',
    mediaIds: [...entry.mediaIds],
    templateName: entry.templateName ?? '',
    templateCategory:
      (entry.templateCategory && TEMPLATE_CATEGORIES[entry.templateCategory]) || TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
    contextWaMessageId: entry.contextWaMessageId ?? '',
    statuses: entry.statuses.map((status) => ({
      status: toProtoStatus(status.status),
      occurredAt: status.occurredAt,
      errorCode: status.errorCode ?? 0,
      errorTitle: status.errorTitle ?? '',
      pricing: status.pricing && {
        billable: status.pricing.billable,
        pricingModel: status.pricing.pricingModel ?? '',
        type: status.pricing.type ?? '',
        category: status.pricing.category ?? '',
      },
    })),
    status: entry.status ? toProtoStatus(entry.status) : MessageStatus.MESSAGE_STATUS_UNSPECIFIED,
    sentiment: toProtoSentiment(entry.sentiment),
    sessionIndex: entry.sessionIndex ?? 0,
    conversationId: entry.conversationId,
  };
}
