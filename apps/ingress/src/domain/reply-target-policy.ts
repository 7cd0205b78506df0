import { FailedPreconditionError, NotFoundError } from '@waygate/domain';
import type { InboundMessageIndex } from './inbound-message-index';
import type { MessageStore } from './message-store';
import type { SendFacts, SendPolicy } from './send-policy';

/**
 * Resolves what a send quotes or reacts to into a wamid (Meta's `context.message_id`, a reaction's `message_id`):
 * a Waygate message id of one of the tenant's outbound messages that WhatsApp accepted (it has a wamid), or the wamid
 * of an inbound message to one of the tenant's numbers (the InboundMessageIndex). Anything else — unknown, or another
 * tenant's — is NOT_FOUND, exactly alike. An outbound message WhatsApp has not accepted yet has no wamid to quote:
 * FAILED_PRECONDITION (retry once it is SENT). `reply_to` together with a reaction is refused by validation before.
 */
export function createReplyTargetPolicy(deps: { store: MessageStore; inbound: InboundMessageIndex }): SendPolicy {
  async function resolve(tenantId: string, field: string, id: string): Promise<string> {
    const outbound = await deps.store.get(tenantId, id);
    if (outbound) {
      if (!outbound.waMessageId) {
        throw new FailedPreconditionError(`${field} names a message WhatsApp has not accepted yet`, [
          {
            type: 'MESSAGE_STATUS',
            subject: `messages/${outbound.messageId}`,
            description: `status is ${outbound.status}; a message can be quoted or reacted to once it is SENT`,
          },
        ]);
      }
      return outbound.waMessageId;
    }
    const inbound = await deps.inbound.findInbound(tenantId, id);
    if (inbound) return inbound.waMessageId;
    throw new NotFoundError('message', id);
  }

  return {
    name: 'reply-target',
    async check({ tenant, request }) {
      const facts: { -readonly [K in keyof SendFacts]?: SendFacts[K] } = {};
      if (request.replyTo) facts.replyToWaMessageId = await resolve(tenant.id, 'reply_to', request.replyTo);
      if (request.content.kind === 'reaction') {
        facts.reactionWaMessageId = await resolve(tenant.id, 'reaction.message_id', request.content.messageId);
      }
      return facts;
    },
  };
}
