import type { TranscriptEntry } from '../domain/transcript';

/**
 * A message's cost (issue 13, "Pricing"). Since July 2025 Meta charges per delivered message; its status webhooks say
 * whether a message is billable and in which category, but never an amount. Amounts come only from the tenant's own
 * rate card (country x category, with effective dates, in micros of one currency).
 */

/** One rate of a tenant's rate card. */
export interface Rate {
  /** ISO 3166-1 alpha-2 of the customer's number, or `*` for every country without a rate of its own. */
  readonly country: string;
  /** Meta's pricing category, lowercase: marketing, utility, authentication, authentication-international ... */
  readonly category: string;
  /** Millionths of the rate card's currency unit, per billable message. */
  readonly amountMicros: number;
  /** First UTC day the rate applies (inclusive), YYYY-MM-DD. */
  readonly effectiveFrom: string;
  /** First UTC day it no longer applies (exclusive), YYYY-MM-DD; absent: until a later rate replaces it. */
  readonly effectiveUntil?: string;
}

/** A tenant's rate card: amounts in one currency. */
export interface RateCard {
  /** ISO 4217. */
  readonly currency: string;
  readonly rates: readonly Rate[];
}

/** What one outbound message costs. */
export type MessagePrice =
  /** No pricing reported (yet), or an inbound message. */
  | { readonly kind: 'none' }
  /** Meta reported it free (service message, free entry point or customer-service type, not billable). */
  | { readonly kind: 'free'; readonly category?: string }
  /** Billable, with the rate card's amount. */
  | { readonly kind: 'priced'; readonly category: string; readonly amountMicros: number; readonly at: Date }
  /** Billable, but the rate card has no rate for it (or the tenant has no rate card). */
  | { readonly kind: 'unpriced'; readonly category: string; readonly at: Date };

function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/**
 * The rate for a country and category at an instant: the country's own rate before the `*` rate; among rates in
 * effect, the one that took effect last.
 */
export function findRate(card: RateCard, country: string | undefined, category: string, at: Date): Rate | undefined {
  const time = at.getTime();
  const inEffect = (rate: Rate) =>
    rate.category === category &&
    dayStart(rate.effectiveFrom) <= time &&
    (rate.effectiveUntil === undefined || time < dayStart(rate.effectiveUntil));
  const latest = (candidates: Rate[]) =>
    candidates.reduce<Rate | undefined>(
      (best, rate) => (best === undefined || rate.effectiveFrom > best.effectiveFrom ? rate : best),
      undefined,
    );
  const own = country === undefined ? undefined : latest(card.rates.filter((rate) => rate.country === country && inEffect(rate)));
  return own ?? latest(card.rates.filter((rate) => rate.country === '*' && inEffect(rate)));
}

/** Pricing types Meta uses for messages it does not charge, whatever `billable` says. */
function isFreeType(type: string | undefined): boolean {
  return type !== undefined && type.toLowerCase().startsWith('free');
}

/**
 * Prices one message from the pricing on its statuses. The first status that carries pricing decides (Meta repeats
 * the same pricing on sent, delivered and read) and its time picks the rate (the charge is for the delivery, not for
 * when the message was accepted). Service messages and free types cost nothing; a billable message without a rate is
 * `unpriced`, never silently zero.
 */
export function priceMessage(entry: TranscriptEntry, country: string | undefined, card: RateCard | undefined): MessagePrice {
  if (entry.direction !== 'outbound') return { kind: 'none' };
  const priced = entry.statuses.find((status) => status.pricing !== undefined);
  const pricing = priced?.pricing;
  if (priced === undefined || pricing === undefined) return { kind: 'none' };
  const category = pricing.category?.toLowerCase();
  if (!pricing.billable || category === 'service' || isFreeType(pricing.type)) return { kind: 'free', ...(category ? { category } : {}) };
  const billedCategory = category ?? 'unknown';
  const rate = card === undefined ? undefined : findRate(card, country, billedCategory, priced.occurredAt);
  if (rate === undefined) return { kind: 'unpriced', category: billedCategory, at: priced.occurredAt };
  return { kind: 'priced', category: billedCategory, amountMicros: rate.amountMicros, at: priced.occurredAt };
}

/** A running total of message prices (a conversation's, or a day's). */
export interface CostTotal {
  /** ISO 4217, or empty without a rate card. */
  currency: string;
  amountMicros: number;
  billableMessages: number;
  billableByCategory: Record<string, number>;
  unpricedMessages: number;
}

/** An empty total in the rate card's currency. */
export function emptyCost(card: RateCard | undefined): CostTotal {
  return { currency: card?.currency ?? '', amountMicros: 0, billableMessages: 0, billableByCategory: {}, unpricedMessages: 0 };
}

/** Adds one message's price to a total. */
export function addPrice(total: CostTotal, price: MessagePrice): void {
  if (price.kind !== 'priced' && price.kind !== 'unpriced') return;
  total.billableMessages += 1;
  total.billableByCategory[price.category] = (total.billableByCategory[price.category] ?? 0) + 1;
  if (price.kind === 'priced') total.amountMicros += price.amountMicros;
  else total.unpricedMessages += 1;
}
