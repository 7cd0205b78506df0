import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countryOfE164 } from './calling-codes';
import { computeConversationMetrics } from './conversation-metrics';
import { findRate, priceMessage, type RateCard } from './cost';
import { percentile } from './percentile';
import { business, customer, T0 } from './transcript-fixtures';

const CARD: RateCard = {
  currency: 'EUR',
  rates: [
    { country: 'DE', category: 'marketing', amountMicros: 130_000, effectiveFrom: '2025-01-01' },
    // A price change on 2025-03-04 (T0 is 2025-03-03).
    { country: 'DE', category: 'marketing', amountMicros: 140_000, effectiveFrom: '2025-03-04' },
    { country: 'DE', category: 'utility', amountMicros: 50_000, effectiveFrom: '2025-01-01', effectiveUntil: '2025-03-04' },
    { country: '*', category: 'utility', amountMicros: 10_000, effectiveFrom: '2025-01-01' },
  ],
};
const DAY = 86_400_000;
const marketing = { billable: true, pricingModel: 'PMP', type: 'regular', category: 'marketing' };
const utility = { billable: true, pricingModel: 'PMP', type: 'regular', category: 'utility' };

test('the E.164 calling code gives the country, by longest prefix', () => {
  assert.equal(countryOfE164('+4915112345678'), 'DE');
  assert.equal(countryOfE164('+12025550123'), 'US');
  assert.equal(countryOfE164('+77012345678'), 'KZ');
  assert.equal(countryOfE164('+79161234567'), 'RU');
  assert.equal(countryOfE164('+351912345678'), 'PT');
  assert.equal(countryOfE164('+8613812345678'), 'CN');
  assert.equal(countryOfE164('+6991234567'), undefined, 'unknown code');
  assert.equal(countryOfE164('4915112345678'), undefined, 'not E.164');
});

test('rates: the country own rate in effect at the time, else the * rate', () => {
  assert.equal(findRate(CARD, 'DE', 'marketing', new Date(T0))?.amountMicros, 130_000);
  assert.equal(findRate(CARD, 'DE', 'marketing', new Date(Date.UTC(2025, 2, 4)))?.amountMicros, 140_000);
  assert.equal(findRate(CARD, 'DE', 'marketing', new Date(Date.UTC(2024, 11, 31, 23, 59))), undefined, 'before any rate');
  assert.equal(findRate(CARD, 'DE', 'utility', new Date(T0))?.amountMicros, 50_000);
  assert.equal(findRate(CARD, 'DE', 'utility', new Date(T0 + DAY))?.amountMicros, 10_000, 'own rate ended: the * rate');
  assert.equal(findRate(CARD, 'FR', 'utility', new Date(T0))?.amountMicros, 10_000);
  assert.equal(findRate(CARD, undefined, 'utility', new Date(T0))?.amountMicros, 10_000);
  assert.equal(findRate(CARD, 'FR', 'marketing', new Date(T0)), undefined);
});

test('a message is priced from the first status that carries pricing, at that status time', () => {
  const sentBeforeChange = business(T0 + 14 * 3_600_000, 'm', {
    type: 'template',
    statuses: [
      ['SENT', T0 + 14 * 3_600_000],
      // Delivered after midnight: the new rate.
      ['DELIVERED', T0 + DAY, marketing],
      ['READ', T0 + DAY + 1, marketing],
    ],
  });
  assert.deepEqual(priceMessage(sentBeforeChange, 'DE', CARD), {
    kind: 'priced',
    category: 'marketing',
    amountMicros: 140_000,
    at: new Date(T0 + DAY),
  });
  assert.deepEqual(priceMessage(business(T0), 'DE', CARD), { kind: 'none' }, 'no pricing reported');
  assert.deepEqual(priceMessage(customer(T0), 'DE', CARD), { kind: 'none' });
});

test('service messages and free types cost nothing; billable without a rate is unpriced', () => {
  const priced = (pricing: Parameters<typeof business>[2]) => priceMessage(business(T0, 'x', pricing), 'FR', CARD);
  const service = { billable: false, pricingModel: 'PMP', type: 'free_customer_service', category: 'service' };
  assert.deepEqual(priced({ statuses: [['DELIVERED', T0, service]] }), { kind: 'free', category: 'service' });
  // A utility template inside the open window: Meta says not billable.
  assert.deepEqual(priced({ statuses: [['DELIVERED', T0, { ...utility, billable: false, type: 'free_customer_service' }]] }), {
    kind: 'free',
    category: 'utility',
  });
  assert.deepEqual(priced({ statuses: [['DELIVERED', T0, { ...marketing, type: 'free_entry_point' }]] }), {
    kind: 'free',
    category: 'marketing',
  });
  assert.deepEqual(priced({ statuses: [['DELIVERED', T0, marketing]] }), { kind: 'unpriced', category: 'marketing', at: new Date(T0) });
  assert.deepEqual(priceMessage(business(T0, 'x', { statuses: [['DELIVERED', T0, utility]] }), 'DE', undefined), {
    kind: 'unpriced',
    category: 'utility',
    at: new Date(T0),
  });
});

test('a conversation cost: totals, billable by category, unpriced counted apart', () => {
  const metrics = computeConversationMetrics(
    [
      business(T0, 'offer', { type: 'template', statuses: [['DELIVERED', T0 + 1, marketing]] }),
      customer(T0 + 2),
      business(T0 + 3, 'reply', {
        statuses: [['DELIVERED', T0 + 4, { billable: false, type: 'free_customer_service', category: 'service' }]],
      }),
      business(T0 + 5, 'receipt', { type: 'template', statuses: [['DELIVERED', T0 + 6, utility]] }),
      business(T0 + 7, 'auth', { type: 'template', statuses: [['DELIVERED', T0 + 8, { ...utility, category: 'authentication' }]] }),
    ],
    { now: new Date(T0 + DAY), rateCard: CARD, country: 'DE' },
  );
  assert.deepEqual(metrics.cost, {
    currency: 'EUR',
    amountMicros: 180_000,
    billableMessages: 3,
    billableByCategory: { marketing: 1, utility: 1, authentication: 1 },
    unpricedMessages: 1,
  });
});

test('percentiles by nearest rank are exact values', () => {
  assert.equal(percentile([], 50), undefined);
  assert.equal(percentile([7], 90), 7);
  assert.equal(percentile([40, 10, 30, 20], 50), 20);
  assert.equal(percentile([40, 10, 30, 20], 90), 40);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
});
