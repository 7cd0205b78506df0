/** Meta's customer service window: free-form messages are allowed for 24 hours after the customer last wrote. */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** When each customer last wrote to each business number, so free-form sends can be checked like Meta does. */
export class CustomerServiceWindows {
  private readonly lastInboundMs = new Map<string, number>();

  /** A customer message opens (or extends) the window. */
  open(phoneNumberId: string, waId: string, atMs: number): void {
    const key = windowKey(phoneNumberId, waId);
    this.lastInboundMs.set(key, Math.max(this.lastInboundMs.get(key) ?? 0, atMs));
  }

  /** True while the customer's last message is less than 24 hours old. */
  isOpen(phoneNumberId: string, waId: string, nowMs: number): boolean {
    const last = this.lastInboundMs.get(windowKey(phoneNumberId, waId));
    return last !== undefined && nowMs - last < CUSTOMER_SERVICE_WINDOW_MS;
  }

  clear(): void {
    this.lastInboundMs.clear();
  }
}

function windowKey(phoneNumberId: string, waId: string): string {
  return `${phoneNumberId}:${waId}`;
}
