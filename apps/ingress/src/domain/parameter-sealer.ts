import type { MessageContent } from '@waygate/domain';

/**
 * Seals the parameters of authentication messages (their one-time code) before a message is stored or published,
 * so the code crosses ingress's store, the OUTBOUND stream and delivery-retry's schedule only encrypted (AES-256-GCM
 * under a short-lived regional key; delivery-retry opens it at send time). The adapter is in adapters/.
 */
export interface ParameterSealer {
  /** The content with every text parameter (body and button) sealed. */
  seal(tenantId: string, content: Extract<MessageContent, { kind: 'template' }>): Promise<MessageContent>;
  /** Whether a parameter value is sealed text (a request may not send one). */
  isSealed(text: string): boolean;
  /**
   * A keyed hash standing in for a request hash that covers a code (a bare SHA-256 over a 6-digit code is
   * brute-forced in a second): what an authentication message keeps for its idempotency check.
   */
  keyedRequestHash(requestHash: string): string;
}
