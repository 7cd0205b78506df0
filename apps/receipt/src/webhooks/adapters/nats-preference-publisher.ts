import type { JetStreamClient } from 'nats';
import type { Keyring } from '@waygate/keyring';
import { publishCustomerEvent, regionSubjects } from '@waygate/nats';
import { CustomerPreference, CustomerPreferenceChanged, OptOutSource } from '@waygate/proto';
import type { PreferenceAnnouncement, PreferencePublisher, PreferenceSource } from '../domain/customer-preferences';

const SOURCES: Readonly<Record<PreferenceSource, OptOutSource>> = {
  'stop-keyword': OptOutSource.OPT_OUT_SOURCE_STOP_KEYWORD,
  'quick-reply': OptOutSource.OPT_OUT_SOURCE_QUICK_REPLY,
  'user-preferences': OptOutSource.OPT_OUT_SOURCE_USER_PREFERENCES,
};

/** The CustomerPreferenceChanged event of an announcement. */
export function toCustomerPreferenceChanged(announcement: PreferenceAnnouncement): CustomerPreferenceChanged {
  return {
    eventId: announcement.eventId,
    tenantId: announcement.tenantId,
    phoneNumberId: announcement.phoneNumberId,
    customer: announcement.customer,
    waId: announcement.waId,
    preference:
      announcement.preference === 'stopped'
        ? CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_STOPPED
        : CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_RESUMED,
    source: SOURCES[announcement.source],
    occurredAt: announcement.occurredAt,
  };
}

/**
 * Publishes CustomerPreferenceChanged on `waygate.<region>.events.preferences`, with its event id as Nats-Msg-Id,
 * sealed under the customer's data key.
 */
export function createNatsPreferencePublisher(
  js: JetStreamClient,
  region: string,
  keyring: Pick<Keyring, 'dataKeyFor' | 'customerRef'>,
): PreferencePublisher {
  const subject = regionSubjects(region).preferenceEvents;
  return {
    async publish(announcement) {
      const data = CustomerPreferenceChanged.encode(toCustomerPreferenceChanged(announcement)).finish();
      const customer = { keyring, tenantId: announcement.tenantId, customer: announcement.customer };
      await publishCustomerEvent(js, subject, data, announcement.eventId, customer);
    },
  };
}
