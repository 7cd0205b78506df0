import type { ApiKey } from './api-key';

/** A WhatsApp business phone number of a tenant, with the Cloud API token that sends from it. */
export interface WhatsAppPhoneNumber {
  readonly id: string;
  readonly displayPhoneNumber: string;
  readonly accessToken: string;
  /**
   * Messages per second Meta allows this number (its throughput tier: 80 by default, up to 1,000). delivery-retry
   * never exceeds it, summed over all its replicas.
   */
  readonly throughputMps: number;
}

/** An HTTPS endpoint of the tenant that receives its events (statuses, inbound messages) as signed JSON. */
export interface CallbackEndpoint {
  /** Stable name of the endpoint (lowercase letters, digits, dashes); it keys the endpoint's delivery state. */
  readonly id: string;
  readonly url: string;
  /** Shared secret for the HMAC-SHA256 signature of each delivery. */
  readonly signingSecret: string;
}

/**
 * A tenant's send limits (ingress enforces them; each is off when not set). The rate is per ingress replica (kept in
 * memory); the daily quota is counted durably per UTC day, across replicas and restarts.
 */
export interface SendLimits {
  /** Sends accepted per second, on average. */
  readonly sendsPerSecond?: number;
  /** How many sends may come at once above the rate (a token bucket's size); defaults to one second's worth. */
  readonly burst?: number;
  /** Sends accepted per UTC day. */
  readonly dailyQuota?: number;
}

/** How customers opt out of the tenant's marketing messages by writing (receipt applies it). */
export interface OptOutSettings {
  /** Messages that opt the customer out when they are exactly one of these (case and surrounding space ignored). */
  readonly stopKeywords: readonly string[];
  /** Quick-reply button payloads that opt the customer out (a template's marketing opt-out button). */
  readonly quickReplyPayloads: readonly string[];
}

/**
 * One rate of a tenant's rate card: what Meta charges the tenant per billable message to a country in a category,
 * from a day on (Meta reports no amounts; the archive computes cost from this).
 */
export interface ArchiveRate {
  /** ISO 3166-1 alpha-2 of the customer's number, or `*` for every country without a rate of its own. */
  readonly country: string;
  /** Meta's pricing category, lowercase: marketing, utility, authentication, authentication-international ... */
  readonly category: string;
  /** Millionths of the rate card's currency unit. */
  readonly amountMicros: number;
  /** First UTC day it applies, YYYY-MM-DD. */
  readonly effectiveFrom: string;
  /** First UTC day it no longer applies (exclusive); absent: until a later rate of the same country and category. */
  readonly effectiveUntil?: string;
}

/** A scorecard criterion (see apps/archive/README.md, "Chat evaluation"). */
export type ScorecardCriterionSettings = { readonly name: string; readonly weight: number } & (
  | { readonly kind: 'firstReplyWithin'; readonly minutes: number }
  | { readonly kind: 'noWindowClosedWhileWaiting' }
  | { readonly kind: 'sentimentNotWorse' }
  | { readonly kind: 'keywordsRequired'; readonly keywords: readonly string[]; readonly match: 'all' | 'any' }
  | { readonly kind: 'keywordsForbidden'; readonly keywords: readonly string[] }
);

/** The archive's per-tenant settings: cost and chat evaluation. */
export interface ArchiveSettings {
  readonly rateCard?: { readonly currency: string; readonly rates: readonly ArchiveRate[] };
  readonly scorecard?: { readonly name: string; readonly criteria: readonly ScorecardCriterionSettings[] };
}

/**
 * The tenant's verification settings (waygate.verify.v1, issue 17): the AUTHENTICATION template StartVerification
 * sends when the request names none, and its hourly send limits against SMS-pumping-style abuse (ingress's defaults
 * when not set: 5 per number, 1,000 per tenant).
 */
export interface VerificationSettings {
  readonly defaultTemplate?: { readonly name: string; readonly language: string };
  /** Codes sent to one number per rolling hour. */
  readonly sendsPerNumberPerHour?: number;
  /** Codes the tenant sends per rolling hour, all numbers together. */
  readonly sendsPerTenantPerHour?: number;
}

/** A tenant: one enterprise, homed in one region; everything about its customers stays there. */
export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly homeRegion: string;
  /** The tenant's API keys (by hash, id and scopes); the keys themselves are never stored. */
  readonly apiKeys: readonly ApiKey[];
  readonly whatsapp: {
    readonly wabaId: string;
    /** The Meta app secret that signs this tenant's webhooks. */
    readonly appSecret: string;
    /** The token Meta echoes in the webhook subscription handshake. */
    readonly verifyToken: string;
    readonly phoneNumbers: readonly WhatsAppPhoneNumber[];
  };
  /** Where the tenant's events are delivered; empty when the tenant only uses the gRPC stream. */
  readonly callbacks: readonly CallbackEndpoint[];
  /** Media settings; absent: media-store's defaults (media kept 1 year). */
  readonly media?: { readonly retentionDays: number };
  /** Send rate and daily quota; none when not configured. */
  readonly sendLimits?: SendLimits;
  /** Stop keywords and opt-out quick replies; the defaults (STOP) when not configured. */
  readonly optOut?: OptOutSettings;
  /** The archive's rate card and scorecard; none when not configured. */
  readonly archive?: ArchiveSettings;
  /** Verification (one-time codes); ingress's defaults when not configured. */
  readonly verification?: VerificationSettings;
}
