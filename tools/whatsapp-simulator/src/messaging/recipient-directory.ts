import { WA_ID_PATTERN } from '../phone-numbers';
import { SimulatorInputError } from '../simulator-input-error';
import type { RecipientBehaviour, RecipientMode, RecipientState } from '../types';

const RECIPIENT_MODES: readonly RecipientMode[] = ['online', 'offline', 'not_on_whatsapp'];

/** Recipients nobody configured behave like a typical user: online, read receipts on. */
export const DEFAULT_RECIPIENT_STATE: Readonly<RecipientState> = { mode: 'online', readReceipts: true };

/** Throws unless `waId` is E.164 digits without '+'. */
export function assertWaId(waId: unknown): asserts waId is string {
  if (typeof waId !== 'string' || !WA_ID_PATTERN.test(waId)) {
    throw new SimulatorInputError('wa_id must be 5-15 digits without "+"');
  }
}

/** Checks an untrusted behaviour update (from code or the control API). */
export function parseRecipientBehaviour(value: unknown): RecipientBehaviour {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimulatorInputError('recipient behaviour must be an object');
  }
  const { mode, readReceipts, deliveryDelayMs, readDelayMs } = value as Record<string, unknown>;
  if (mode !== undefined && !RECIPIENT_MODES.includes(mode as RecipientMode)) {
    throw new SimulatorInputError(`mode must be one of ${RECIPIENT_MODES.join(', ')}`);
  }
  if (readReceipts !== undefined && typeof readReceipts !== 'boolean') {
    throw new SimulatorInputError('readReceipts must be a boolean');
  }
  for (const [name, delay] of [
    ['deliveryDelayMs', deliveryDelayMs],
    ['readDelayMs', readDelayMs],
  ] as const) {
    if (delay !== undefined && (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0)) {
      throw new SimulatorInputError(`${name} must be a number >= 0`);
    }
  }
  return {
    ...(mode === undefined ? {} : { mode: mode as RecipientMode }),
    ...(readReceipts === undefined ? {} : { readReceipts }),
    ...(deliveryDelayMs === undefined ? {} : { deliveryDelayMs: deliveryDelayMs as number }),
    ...(readDelayMs === undefined ? {} : { readDelayMs: readDelayMs as number }),
  };
}

/** Per-recipient behaviour, keyed by wa_id. */
export class RecipientDirectory {
  private readonly states = new Map<string, RecipientState>();

  /** Current behaviour of a recipient (defaults when never configured). */
  get(waId: string): RecipientState {
    return this.states.get(waId) ?? DEFAULT_RECIPIENT_STATE;
  }

  /** Applies a partial update and returns the resulting behaviour. */
  update(waId: string, behaviour: RecipientBehaviour): RecipientState {
    const next: RecipientState = { ...this.get(waId), ...behaviour };
    this.states.set(waId, next);
    return next;
  }

  clear(): void {
    this.states.clear();
  }
}
