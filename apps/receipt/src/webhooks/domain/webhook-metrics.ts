/** What webhook intake measures (no tenant or phone number: a queued body may carry several WABAs). */
export interface WebhookMetrics {
  /**
   * A queued webhook body was processed (everything in it applied): `lagSeconds` from the endpoint's receipt of it
   * (WebhookReceived.received_at) to now, retries after an unavailable dependency included.
   */
  processed(lagSeconds: number): void;
}
