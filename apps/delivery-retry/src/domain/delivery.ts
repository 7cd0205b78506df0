/** What delivery-retry delivers: a text message for now. */
export interface DeliveryContent {
  readonly kind: 'text';
  readonly body: string;
  readonly previewUrl: boolean;
}

export type DeliveryState = 'PENDING' | 'SENT' | 'FAILED' | 'EXPIRED';

/** delivery-retry's record of one message: the source of truth for whether it was handed to WhatsApp. */
export interface Delivery {
  readonly tenantId: string;
  readonly messageId: string;
  readonly to: string;
  readonly phoneNumberId: string;
  readonly content: DeliveryContent;
  readonly state: DeliveryState;
  /** Calls made to the Cloud API. */
  readonly attempts: number;
  readonly waMessageId?: string;
  readonly lastErrorCode?: number;
  readonly lastErrorTitle?: string;
  readonly nextAttemptAt?: Date;
  readonly expiresAt: Date;
  readonly updatedAt: Date;
}

/** The result of one attempt, to record before anything is acknowledged. */
export interface AttemptRecord {
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly waMessageId?: string;
  readonly lastErrorCode?: number;
  readonly lastErrorTitle?: string;
  readonly nextAttemptAt?: Date;
  readonly updatedAt: Date;
}

/**
 * The delivery after `attempt` is recorded, as the store records it (DeliveryStore.recordAttempt): state, attempts,
 * errors, next attempt and time are replaced (an absent error clears the old one); the wamid is kept once known.
 */
export function withAttempt(delivery: Delivery, attempt: AttemptRecord): Delivery {
  const waMessageId = attempt.waMessageId ?? delivery.waMessageId;
  return {
    tenantId: delivery.tenantId,
    messageId: delivery.messageId,
    to: delivery.to,
    phoneNumberId: delivery.phoneNumberId,
    content: delivery.content,
    expiresAt: delivery.expiresAt,
    state: attempt.state,
    attempts: attempt.attempts,
    updatedAt: attempt.updatedAt,
    ...(waMessageId !== undefined ? { waMessageId } : {}),
    ...(attempt.lastErrorCode !== undefined ? { lastErrorCode: attempt.lastErrorCode } : {}),
    ...(attempt.lastErrorTitle !== undefined ? { lastErrorTitle: attempt.lastErrorTitle } : {}),
    ...(attempt.nextAttemptAt !== undefined ? { nextAttemptAt: attempt.nextAttemptAt } : {}),
  };
}
