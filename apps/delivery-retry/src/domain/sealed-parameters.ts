import type { MessageContent } from '@waygate/domain';
import type { CloudApiSendOutcome } from './whatsapp-client';

/** The content with its sealed parameters opened, or the outcome to record instead of a send. */
export type SealedOpening =
  | { readonly kind: 'opened'; readonly content: MessageContent }
  | { readonly kind: 'failed'; readonly outcome: Exclude<CloudApiSendOutcome, { kind: 'accepted' }> };

/**
 * Opens the sealed parameters of an authentication message (its one-time code, sealed by ingress under a short-lived
 * regional key) just before the Cloud API call: the code exists in plaintext only in memory, for the request. A
 * message without sealed parameters is returned as it is.
 */
export interface SealedParameterOpener {
  open(tenantId: string, content: MessageContent): Promise<SealedOpening>;
}
