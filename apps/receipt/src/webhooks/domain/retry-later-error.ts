/**
 * Processing cannot finish now because a dependency is temporarily unavailable (WhatsApp's media API, media-store).
 * The webhook is processed again later; everything done before the failure is re-applied idempotently.
 */
export class RetryLaterError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RetryLaterError';
  }
}
