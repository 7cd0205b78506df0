import type { TemplateCategory } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { ValidSendRequest } from './send-request';

/**
 * What the policies learned about a send so far. Each policy sees what the earlier ones found (e.g. the opt-out
 * policy reads the template category the catalog policy looked up) and may add to it.
 */
export interface SendFacts {
  /** The template's category from the catalog (templates only). */
  readonly templateCategory?: TemplateCategory;
  /** The wamid `reply_to` resolves to (Meta's context.message_id). */
  readonly replyToWaMessageId?: string;
  /** The wamid a reaction's `message_id` resolves to. */
  readonly reactionWaMessageId?: string;
  /** Validity to use when the caller gave none (e.g. 10 minutes for AUTHENTICATION templates). */
  readonly defaultValiditySeconds?: number;
  /** The latest the message may still be sent (e.g. when the customer-service window closes). */
  readonly notAfter?: Date;
}

export interface SendPolicyInput {
  readonly tenant: Tenant;
  readonly request: ValidSendRequest;
  readonly now: Date;
  readonly facts: SendFacts;
}

/**
 * One rule a send must pass before it is accepted (a template in the catalog, an open customer-service window, no
 * opt-out, the tenant's rate and quota, ...). Policies run in order after the request is well-formed and before
 * anything is stored; a policy refuses by throwing a WaygateError (InvalidArgumentError, NotFoundError,
 * FailedPreconditionError, ResourceExhaustedError) and otherwise returns the facts it adds, if any. A retried
 * SendMessage (same idempotency key) is answered from the store without running them again.
 */
export interface SendPolicy {
  /** For logs and metrics, e.g. "template-catalog". */
  readonly name: string;
  check(input: SendPolicyInput): Promise<Partial<SendFacts> | void> | Partial<SendFacts> | void;
}

/** Runs the policies in order, merging what each adds; the first refusal ends the run. */
export async function runSendPolicies(policies: readonly SendPolicy[], input: Omit<SendPolicyInput, 'facts'>): Promise<SendFacts> {
  let facts: SendFacts = {};
  for (const policy of policies) {
    const added = await policy.check({ ...input, facts });
    if (added) facts = { ...facts, ...added };
  }
  return facts;
}
