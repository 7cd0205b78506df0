import type { JetStreamClient } from 'nats';
import { publishEvent, regionSubjects } from '@waygate/nats';
import { AccountEvent } from '@waygate/proto';
import type { AccountAnnouncement, AccountEventPublisher } from '../domain/account-webhooks';

/** The wire form of an account change. */
export function toAccountEvent(announcement: AccountAnnouncement): AccountEvent {
  const { change } = announcement;
  const base = {
    eventId: announcement.eventId,
    tenantId: announcement.tenantId,
    wabaId: announcement.wabaId,
    occurredAt: announcement.occurredAt,
  };
  switch (change.kind) {
    case 'phone-number-quality':
      return AccountEvent.fromPartial({
        ...base,
        change: {
          $case: 'phoneNumberQuality',
          value: {
            phoneNumberId: change.phoneNumberId ?? '',
            displayPhoneNumber: change.displayPhoneNumber,
            event: change.event,
            currentLimit: change.currentLimit,
            oldLimit: change.oldLimit,
            maxDailyConversationsPerBusiness: String(change.maxDailyConversationsPerBusiness ?? 0),
            throughputMps: change.throughputMps ?? 0,
          },
        },
      });
    case 'business-capability':
      return AccountEvent.fromPartial({
        ...base,
        change: {
          $case: 'businessCapability',
          value: {
            maxDailyConversationsPerBusiness: String(change.maxDailyConversationsPerBusiness ?? 0),
            maxPhoneNumbersPerBusiness: String(change.maxPhoneNumbersPerBusiness ?? 0),
            maxPhoneNumbersPerWaba: String(change.maxPhoneNumbersPerWaba ?? 0),
          },
        },
      });
    case 'account-update':
      return AccountEvent.fromPartial({
        ...base,
        change: {
          $case: 'accountUpdate',
          value: {
            event: change.event,
            phoneNumber: change.phoneNumber ?? '',
            violationType: change.violationType ?? '',
            banState: change.banState ?? '',
            banDate: change.banDate ?? '',
            restrictions: change.restrictions.map((r) => ({ restrictionType: r.restrictionType, expiration: r.expiration })),
          },
        },
      });
  }
}

/** Publishes AccountEvent on `waygate.<region>.events.account`, with its event id as Nats-Msg-Id. */
export function createNatsAccountEventPublisher(js: JetStreamClient, region: string): AccountEventPublisher {
  const subject = regionSubjects(region).accountEvents;
  return {
    async publish(announcement) {
      await publishEvent(js, subject, AccountEvent.encode(toAccountEvent(announcement)).finish(), announcement.eventId);
    },
  };
}
