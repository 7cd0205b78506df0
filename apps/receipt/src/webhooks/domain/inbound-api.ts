import {
  idViolations,
  InvalidArgumentError,
  isE164,
  MAX_WHATSAPP_ID_LENGTH,
  NotFoundError,
  UnavailableError,
  type Clock,
} from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { InboundStore } from './inbound-store';
import { serviceWindowClosesAt } from './service-window';
import { isTransientCloudApiFailure, type WhatsAppCloudApi } from './whatsapp-cloud-api';

/** Meta's phone number ids are 15-16 digits; 64 leaves room without accepting anything large. */
const MAX_PHONE_NUMBER_ID_LENGTH = 64;

/** A customer-service window as a tenant sees it. */
export interface ServiceWindowView {
  readonly open: boolean;
  /** Unset when the customer never wrote to the number. */
  readonly closesAt?: Date;
  readonly lastInboundAt?: Date;
}

/** What tenants may do with their inbound messages (the InboundService API, without its wire types). */
export interface InboundApi {
  markMessageRead(tenant: Tenant, request: { waMessageId: string; showTypingIndicator: boolean }): Promise<void>;
  getServiceWindow(tenant: Tenant, request: { phoneNumberId: string; customer: string }): Promise<ServiceWindowView>;
}

export function createInboundApi(deps: { inboundStore: InboundStore; cloudApi: WhatsAppCloudApi; clock: Clock }): InboundApi {
  const { inboundStore, cloudApi, clock } = deps;
  return {
    async markMessageRead(tenant, request) {
      const violations = idViolations('wa_message_id', request.waMessageId, MAX_WHATSAPP_ID_LENGTH);
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      // Another tenant's message is looked up under this tenant, so it is not found, exactly like an unknown one.
      const record = await inboundStore.findInboundMessage(tenant.id, request.waMessageId);
      const phoneNumber = record && tenant.whatsapp.phoneNumbers.find((phone) => phone.id === record.phoneNumberId);
      if (!record || !phoneNumber) throw new NotFoundError('inbound message', request.waMessageId);
      const result = await cloudApi.markRead({
        phoneNumberId: phoneNumber.id,
        accessToken: phoneNumber.accessToken,
        waMessageId: record.waMessageId,
        typingIndicator: request.showTypingIndicator,
      });
      if (result.kind === 'ok') return;
      if (result.kind === 'no-answer' || isTransientCloudApiFailure(result))
        throw new UnavailableError('WhatsApp did not take the read mark now; try again later');
      throw new InvalidArgumentError([
        { field: 'wa_message_id', reason: 'REFUSED_BY_WHATSAPP', description: `WhatsApp refused to mark it as read (code ${result.code})` },
      ]);
    },

    async getServiceWindow(tenant, request) {
      const violations = [
        ...idViolations('phone_number_id', request.phoneNumberId, MAX_PHONE_NUMBER_ID_LENGTH),
        ...(isE164(request.customer)
          ? []
          : [{ field: 'customer', reason: 'INVALID_FORMAT', description: 'must be a phone number in E.164 form, e.g. +4915112345678' }]),
      ];
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      if (!tenant.whatsapp.phoneNumbers.some((phone) => phone.id === request.phoneNumberId)) {
        throw new NotFoundError('phone number', request.phoneNumberId);
      }
      const state = await inboundStore.findServiceWindow({
        tenantId: tenant.id,
        phoneNumberId: request.phoneNumberId,
        customer: request.customer,
      });
      if (!state) return { open: false };
      const closesAt = serviceWindowClosesAt(state);
      return { open: clock.now().getTime() < closesAt.getTime(), closesAt, lastInboundAt: state.lastInboundAt };
    },
  };
}
