import { WA_ID_PATTERN } from '../phone-numbers';
import { SimulatorInputError } from '../simulator-input-error';

/**
 * Misbehaviours of Meta's webhook delivery a receiver must survive:
 * - `duplicate`: the webhook carrying a status is delivered again after it was accepted;
 * - `read_before_delivered`: `read` is sent before `delivered`;
 * - `delivered_after_failed`: the message is reported `failed`, then `delivered` (as seen with multi-device);
 * - `skip_delivered`: `delivered` is never sent, only `read` (Meta does this when the chat is open);
 * - `delay`: the status is held back for `delayMs` of simulated time before it is queued.
 */
export type WebhookFaultKind = 'duplicate' | 'read_before_delivered' | 'delivered_after_failed' | 'skip_delivered' | 'delay';

export const WEBHOOK_FAULT_KINDS: readonly WebhookFaultKind[] = [
  'duplicate',
  'read_before_delivered',
  'delivered_after_failed',
  'skip_delivered',
  'delay',
];

/** One injection rule. `duplicate` and `delay` apply per status webhook, the others per message. */
export interface WebhookFaultRule {
  fault: WebhookFaultKind;
  /** How many times it applies; omitted = until cleared. */
  count?: number;
  /** Chance (0-1, from the seeded random source) that an eligible status/message is hit; default 1. */
  probability?: number;
  /** Only messages to (or statuses about) this wa_id. */
  recipient?: string;
  /** For `delay`: simulated ms to hold the status back. */
  delayMs?: number;
}

interface ActiveRule {
  rule: WebhookFaultRule;
  remaining: number;
}

/** Checks an untrusted rule (from code or the control API). */
export function parseWebhookFaultRule(value: unknown): WebhookFaultRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SimulatorInputError('webhook fault must be an object');
  const { fault, count, probability, recipient, delayMs } = value as Record<string, unknown>;
  if (!WEBHOOK_FAULT_KINDS.includes(fault as WebhookFaultKind)) {
    throw new SimulatorInputError(`fault must be one of ${WEBHOOK_FAULT_KINDS.join(', ')}`);
  }
  if (count !== undefined && (!Number.isInteger(count) || (count as number) < 1))
    throw new SimulatorInputError('count must be a positive integer');
  if (probability !== undefined && (typeof probability !== 'number' || probability < 0 || probability > 1)) {
    throw new SimulatorInputError('probability must be between 0 and 1');
  }
  if (recipient !== undefined && (typeof recipient !== 'string' || !WA_ID_PATTERN.test(recipient))) {
    throw new SimulatorInputError('recipient must be a wa_id (5-15 digits)');
  }
  if (fault === 'delay' && (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs <= 0)) {
    throw new SimulatorInputError('delay needs delayMs > 0');
  }
  if (fault !== 'delay' && delayMs !== undefined) throw new SimulatorInputError('delayMs only applies to the delay fault');
  return {
    fault: fault as WebhookFaultKind,
    ...(count === undefined ? {} : { count: count as number }),
    ...(probability === undefined ? {} : { probability }),
    ...(recipient === undefined ? {} : { recipient: recipient as string }),
    ...(delayMs === undefined ? {} : { delayMs: delayMs as number }),
  };
}

/** Active fault rules; the first matching rule with hits left applies. */
export class WebhookFaultInjector {
  private readonly rules: ActiveRule[] = [];

  constructor(private readonly random: () => number) {}

  add(rule: WebhookFaultRule): void {
    this.rules.push({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** Whether `fault` hits this status/message now (consuming one use); returns the rule that hit. */
  take(fault: WebhookFaultKind, waId: string): WebhookFaultRule | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.fault !== fault || active.remaining <= 0) continue;
      if (rule.recipient !== undefined && rule.recipient !== waId) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      active.remaining -= 1;
      if (active.remaining <= 0) this.rules.splice(this.rules.indexOf(active), 1);
      return rule;
    }
    return undefined;
  }
}
