/**
 * The analysis service over the real SQLite archive store (its read API, paged transcripts): cost from the pricing
 * the store keeps on statuses and the tenant's rate card, and the tenant report's cost on the day Meta priced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { SqliteArchiveStore } from '../adapters/sqlite-archive-store';
import type { IncomingEvent } from '../domain/archived-event';
import { conversationIdOf } from '../domain/transcript';
import { createAnalysisService } from './analysis-service';

const D0 = Date.UTC(2025, 6, 1);
const T0 = D0 + 9 * 3_600_000;
const DAY = 86_400_000;
const CUSTOMER = '+4915112345678';
const marketing = { billable: true, pricingModel: 'PMP', type: 'regular', category: 'marketing' };
const service = { billable: false, pricingModel: 'PMP', type: 'free_customer_service', category: 'service' };

function events(): IncomingEvent[] {
  const accepted = (messageId: string, at: number, contentType: 'text' | 'template') =>
    ({
      kind: 'accepted',
      status: 'ACCEPTED',
      eventId: `accepted:${messageId}`,
      tenantId: 'acme',
      messageId,
      occurredAt: new Date(at),
      recipient: CUSTOMER,
      phoneNumberId: '200',
      contentType,
      textBody: 'x',
    }) as const;
  const status = (messageId: string, at: number, pricing?: typeof marketing) =>
    ({
      kind: 'status',
      status: 'DELIVERED',
      source: 'webhook',
      eventId: `evt_${messageId}`,
      tenantId: 'acme',
      messageId,
      occurredAt: new Date(at),
      waMessageId: `wamid.${messageId}`,
      ...(pricing ? { pricing } : {}),
    }) as const;
  return [
    // A marketing template sent late on day 0, delivered (and priced) on day 1.
    accepted('msg_offer', D0 + 23 * 3_600_000, 'template'),
    status('msg_offer', D0 + DAY + 60_000, marketing),
    {
      kind: 'inbound',
      eventId: 'wa:in:wamid.c1',
      tenantId: 'acme',
      messageId: 'wamid.c1',
      occurredAt: new Date(T0 + DAY + 3_600_000),
      phoneNumberId: '200',
      from: CUSTOMER,
      messageType: 'text',
      text: 'hi',
    },
    accepted('msg_reply', T0 + DAY + 3_660_000, 'text'),
    status('msg_reply', T0 + DAY + 3_661_000, service),
    // Billable in a category the rate card has no rate for.
    accepted('msg_auth', T0 + 2 * DAY, 'template'),
    status('msg_auth', T0 + 2 * DAY + 1_000, { ...marketing, category: 'authentication' }),
  ];
}

test('cost and the report over the SQLite store', async () => {
  const dir = createTempDir();
  const store = new SqliteArchiveStore(path.join(dir.path, 'archive.sqlite'));
  try {
    for (const event of events()) await store.record({ ...event, recordedAt: new Date(T0 + 3 * DAY) });
    const analysis = createAnalysisService({
      reader: store,
      settingsOf: () => ({
        rateCard: {
          currency: 'EUR',
          rates: [{ country: 'DE', category: 'marketing', amountMicros: 131_000, effectiveFrom: '2025-07-01' }],
        },
      }),
      clock: { now: () => new Date(T0 + 10 * DAY) },
    });
    const conversationId = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: CUSTOMER });
    const { metrics } = await analysis.conversationMetrics('acme', conversationId);
    assert.deepEqual(metrics.cost, {
      currency: 'EUR',
      amountMicros: 131_000,
      billableMessages: 2,
      billableByCategory: { marketing: 1, authentication: 1 },
      unpricedMessages: 1,
    });
    assert.equal(metrics.firstResponseMs, 60_000);
    assert.deepEqual([metrics.inboundCount, metrics.outboundCount], [1, 3]);

    const days = await analysis.tenantReport('acme', { from: new Date(D0), to: new Date(D0 + 3 * DAY) });
    assert.deepEqual(
      days.map((day) => [day.date, day.cost.amountMicros, day.cost.billableMessages, day.cost.unpricedMessages]),
      [
        ['2025-07-01', 0, 0, 0],
        ['2025-07-02', 131_000, 1, 0],
        ['2025-07-03', 0, 1, 1],
      ],
    );
  } finally {
    await store.close();
    dir.remove();
  }
});
