import { SimulatorInputError } from './simulator-input-error';
import type { SendFailureInjection } from './types';

/** Checks an untrusted failure injection (from code or the control API). */
export function parseSendFailureInjection(value: unknown): SendFailureInjection {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimulatorInputError('failure injection must be an object');
  }
  const { count, httpStatus, code, message } = value as Record<string, unknown>;
  if (!Number.isInteger(count) || (count as number) < 0) {
    throw new SimulatorInputError('count must be a non-negative integer');
  }
  if (!Number.isInteger(httpStatus) || (httpStatus as number) < 400 || (httpStatus as number) > 599) {
    throw new SimulatorInputError('httpStatus must be an integer between 400 and 599');
  }
  if (!Number.isInteger(code) || (code as number) < 0) {
    throw new SimulatorInputError('code must be a non-negative integer');
  }
  if (message !== undefined && typeof message !== 'string') {
    throw new SimulatorInputError('message must be a string');
  }
  return {
    count: count as number,
    httpStatus: httpStatus as number,
    code: code as number,
    ...(message === undefined ? {} : { message }),
  };
}

/** Queue of injected failures; injections add up and are consumed first-in, first-out. */
export class FailureInjector {
  private readonly queue: { failure: SendFailureInjection; remaining: number }[] = [];

  add(failure: SendFailureInjection): void {
    if (failure.count > 0) this.queue.push({ failure, remaining: failure.count });
  }

  /** The failure the next send must answer with, if any (consumes one). */
  takeNext(): SendFailureInjection | undefined {
    const head = this.queue[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) this.queue.shift();
    return head.failure;
  }
}
