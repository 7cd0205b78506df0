import { metrics, type Meter } from '@opentelemetry/api';
import type { AccountMetrics } from '../domain/account-webhooks';

/**
 * Meta's account webhooks as metrics (Prometheus names in brackets), per tenant:
 * - `waygate.account.events` [`waygate_account_events_total{tenant, field, event}`]: every change;
 * - `waygate.account.alerts` [`waygate_account_alerts_total{tenant, waba_id, kind}`]: changes that need a person
 *   (kind: phone_number_flagged, messaging_limit_downgraded, account_violation, account_restricted, account_banned,
 *   account_deleted); alert on `increase(...[1h]) > 0`;
 * - `waygate.account.messaging_limit` [`waygate_account_messaging_limit{tenant, waba_id}`]: unique customers per
 *   24 hours outside the service window (-1 unlimited), from the last change that named it;
 * - `waygate.account.phone_number.flagged` [`waygate_account_phone_number_flagged{tenant, phone_number_id}`]: 1
 *   after FLAGGED, 0 after UNFLAGGED;
 * - `waygate.account.phone_number.throughput` [`waygate_account_phone_number_throughput{tenant, phone_number_id}`]:
 *   messages per second after a THROUGHPUT_UPGRADE;
 * - `waygate.account.restrictions` [`waygate_account_restrictions{tenant, waba_id}`]: restrictions in the last
 *   ACCOUNT_RESTRICTION change.
 * Gauges hold what this process saw since it started; the counters are what alerts fire on.
 */
export function createOtelAccountMetrics(options: { meter?: Meter } = {}): AccountMetrics {
  const meter = options.meter ?? metrics.getMeter('@waygate/receipt');
  const events = meter.createCounter('waygate.account.events', { description: "Meta's account webhook changes, by field and event" });
  const alerts = meter.createCounter('waygate.account.alerts', { description: 'account changes that need a person, by kind' });
  const messagingLimit = meter.createGauge('waygate.account.messaging_limit', {
    description: 'messaging limit: unique customers per 24 hours outside the service window; -1 unlimited',
  });
  const flagged = meter.createGauge('waygate.account.phone_number.flagged', {
    description: '1 while the number is flagged for low quality',
  });
  const throughput = meter.createGauge('waygate.account.phone_number.throughput', {
    description: 'messages per second Meta allows the number',
  });
  const restrictions = meter.createGauge('waygate.account.restrictions', { description: 'restrictions Meta put on the WABA' });

  return {
    record(announcement, alert) {
      const { change, tenantId, wabaId } = announcement;
      const field =
        change.kind === 'phone-number-quality'
          ? 'phone_number_quality_update'
          : change.kind === 'business-capability'
            ? 'business_capability_update'
            : 'account_update';
      events.add(1, { tenant: tenantId, field, event: 'event' in change ? change.event : '' });
      if (alert) alerts.add(1, { tenant: tenantId, waba_id: wabaId, kind: alert });
      if (change.kind !== 'account-update' && change.maxDailyConversationsPerBusiness !== undefined)
        messagingLimit.record(change.maxDailyConversationsPerBusiness, { tenant: tenantId, waba_id: wabaId });
      if (change.kind === 'phone-number-quality' && change.phoneNumberId) {
        const number = { tenant: tenantId, phone_number_id: change.phoneNumberId };
        if (change.event === 'FLAGGED') flagged.record(1, number);
        if (change.event === 'UNFLAGGED') flagged.record(0, number);
        if (change.throughputMps) throughput.record(change.throughputMps, number);
      }
      if (change.kind === 'account-update' && change.event === 'ACCOUNT_RESTRICTION')
        restrictions.record(change.restrictions.length, { tenant: tenantId, waba_id: wabaId });
    },
  };
}
