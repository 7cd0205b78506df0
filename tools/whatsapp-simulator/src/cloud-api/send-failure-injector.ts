import { SimulatorInputError } from '../simulator-input-error';
import type { SendFailureInjection, SendFailureMode } from '../types';

const SEND_FAILURE_MODES: readonly SendFailureMode[] = ['error', 'timeout', 'drop'];

/** Checks an untrusted failure injection (from code or the control API). */
export function parseSendFailureInjection(value: unknown): SendFailureInjection {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimulatorInputError('failure injection must be an object');
  }
  const { count, httpStatus, code, message, mode = 'error', phoneNumberId, probability } = value as Record<string, unknown>;
  if (!SEND_FAILURE_MODES.includes(mode as SendFailureMode)) {
    throw new SimulatorInputError(`mode must be one of ${SEND_FAILURE_MODES.join(', ')}`);
  }
  if (count !== undefined && (!Number.isInteger(count) || (count as number) < 0)) {
    throw new SimulatorInputError('count must be a non-negative integer (omit it for an outage until cleared)');
  }
  if (mode === 'error') {
    if (!Number.isInteger(httpStatus) || (httpStatus as number) < 400 || (httpStatus as number) > 599) {
      throw new SimulatorInputError('httpStatus must be an integer between 400 and 599');
    }
    if (!Number.isInteger(code) || (code as number) < 0) throw new SimulatorInputError('code must be a non-negative integer');
  } else if (httpStatus !== undefined || code !== undefined || message !== undefined) {
    throw new SimulatorInputError(`httpStatus, code and message only apply to mode 'error'`);
  }
  if (message !== undefined && typeof message !== 'string') throw new SimulatorInputError('message must be a string');
  if (phoneNumberId !== undefined && (typeof phoneNumberId !== 'string' || phoneNumberId === '')) {
    throw new SimulatorInputError('phoneNumberId must be a non-empty string');
  }
  if (probability !== undefined && (typeof probability !== 'number' || probability < 0 || probability > 1)) {
    throw new SimulatorInputError('probability must be between 0 and 1');
  }
  return {
    mode: mode as SendFailureMode,
    ...(count === undefined ? {} : { count: count as number }),
    ...(httpStatus === undefined ? {} : { httpStatus: httpStatus as number }),
    ...(code === undefined ? {} : { code: code as number }),
    ...(message === undefined ? {} : { message }),
    ...(phoneNumberId === undefined ? {} : { phoneNumberId }),
    ...(probability === undefined ? {} : { probability }),
  };
}

/**
 * Injected send failures, consumed first-in first-out. An injection without `count` is an outage: it applies
 * until {@link clear}.
 */
export class SendFailureInjector {
  private readonly queue: { failure: SendFailureInjection; remaining: number }[] = [];

  constructor(private readonly random: () => number) {}

  add(failure: SendFailureInjection): void {
    const remaining = failure.count ?? Number.POSITIVE_INFINITY;
    if (remaining > 0) this.queue.push({ failure, remaining });
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** The failure the next send from this number must suffer, if any (consumes one). */
  takeNext(phoneNumberId: string): SendFailureInjection | undefined {
    for (const entry of this.queue) {
      const { failure } = entry;
      if (failure.phoneNumberId !== undefined && failure.phoneNumberId !== phoneNumberId) continue;
      if (failure.probability !== undefined && this.random() >= failure.probability) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.queue.splice(this.queue.indexOf(entry), 1);
      return failure;
    }
    return undefined;
  }
}
