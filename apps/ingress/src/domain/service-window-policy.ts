import { FailedPreconditionError, maskPhoneNumber } from '@waygate/domain';
import { customerKeyOfWaId, type CustomerView, type CustomerWindow } from './customer-view';
import type { SendPolicy } from './send-policy';
import { waIdCandidates } from './wa-id';

/** The policy's name in logs and metrics. */
export const SERVICE_WINDOW_POLICY = 'service-window';

/**
 * The customer's window with the number, by the wa_id Meta answered for `to` when a send to it was accepted before,
 * else by the wa_ids `to` may stand for (the latest-closing one wins).
 */
export async function findCustomerWindow(
  view: CustomerView,
  tenantId: string,
  phoneNumberId: string,
  to: string,
): Promise<CustomerWindow | undefined> {
  const learned = await view.findWaId(tenantId, to);
  const candidates = learned ? [learned] : waIdCandidates(to);
  let latest: CustomerWindow | undefined;
  for (const waId of candidates) {
    const window = await view.findWindow(tenantId, phoneNumberId, customerKeyOfWaId(waId));
    if (window && (!latest || window.closesAt > latest.closesAt)) latest = window;
  }
  return latest;
}

function windowClosed(to: string, phoneNumberId: string, window: CustomerWindow | undefined): FailedPreconditionError {
  const description = window
    ? `the customer-service window closed at ${window.closesAt.toISOString()} (24 hours after the customer's last message); send an approved template instead`
    : 'the customer has not written to this number (no customer-service window is known); send an approved template instead';
  return new FailedPreconditionError(`a free-form message needs an open customer-service window: ${description}`, [
    { type: 'SERVICE_WINDOW_CLOSED', subject: `phone_numbers/${phoneNumberId}/customers/${maskPhoneNumber(to)}`, description },
  ]);
}

/**
 * WhatsApp delivers a free-form (non-template) message only within 24 hours of the customer's last message to the
 * number (else Meta fails it with 131047). Decided from ingress's local view of the windows (no network hop): a
 * closed or unknown window is FAILED_PRECONDITION (SERVICE_WINDOW_CLOSED); an open one caps the message's validity at
 * its close (`notAfter`), so that delivery does not retry it into a certain 131047. Templates pass untouched.
 * See docs/customer-window.md for what happens when the view and Meta disagree.
 */
export function createServiceWindowPolicy(view: CustomerView): SendPolicy {
  return {
    name: SERVICE_WINDOW_POLICY,
    async check({ tenant, request, now }) {
      if (request.content.kind === 'template') return undefined;
      const window = await findCustomerWindow(view, tenant.id, request.phoneNumberId, request.to);
      if (!window || window.closesAt.getTime() <= now.getTime()) throw windowClosed(request.to, request.phoneNumberId, window);
      return { notAfter: window.closesAt };
    },
  };
}
