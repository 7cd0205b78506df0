import { FailedPreconditionError, maskPhoneNumber } from '@waygate/domain';
import type { CustomerView } from './customer-view';
import type { OptOutList } from './opt-out-list';
import type { SendPolicy } from './send-policy';
import { waIdCandidates } from './wa-id';

/** The policy's name in logs and metrics. */
export const OPT_OUT_POLICY = 'opt-out';

/** Every E.164 form `to` may be known by in the opt-out list: as sent, by the wa_id Meta answered, and its variants. */
export async function customerNumbersOf(view: CustomerView, tenantId: string, to: string): Promise<string[]> {
  const learned = await view.findWaId(tenantId, to);
  const waIds = new Set([...(learned ? [learned] : []), ...waIdCandidates(to)]);
  return [...new Set([to, ...[...waIds].map((waId) => `+${waId}`)])];
}

/**
 * A MARKETING template to a customer on the tenant's opt-out list is FAILED_PRECONDITION (OPTED_OUT); other content
 * is not marketing and passes. The category comes from the template catalog (facts.templateCategory), so this
 * policy runs after the catalog's.
 */
export function createOptOutPolicy(deps: { optOuts: OptOutList; view: CustomerView }): SendPolicy {
  return {
    name: OPT_OUT_POLICY,
    async check({ tenant, request, facts }) {
      if (request.content.kind !== 'template' || facts.templateCategory !== 'MARKETING') return undefined;
      const optOut = await deps.optOuts.findAny(tenant.id, await customerNumbersOf(deps.view, tenant.id, request.to));
      if (!optOut) return undefined;
      const description = `the customer opted out of marketing messages at ${optOut.createdAt.toISOString()} (source: ${optOut.source})`;
      throw new FailedPreconditionError(`a MARKETING template cannot be sent to this customer: ${description}`, [
        { type: 'OPTED_OUT', subject: `opt_outs/${maskPhoneNumber(request.to)}`, description },
      ]);
    },
  };
}
