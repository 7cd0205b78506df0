import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';

/** How long `waitFor` waits unless told otherwise: long enough for a loaded CI machine, short of the per-test timeout. */
export const DEFAULT_WAIT_FOR_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 25;

/** What a truthy check returns: its value without the falsy members of its type. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** How `waitFor` waits and how it words its failure. */
export interface WaitForOptions<T = unknown> {
  /** What the test waits for, in words ("the delivered status of m1"); the failure says "timed out … waiting for <what>". */
  readonly what?: string;
  /** Default DEFAULT_WAIT_FOR_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Pause between two checks; default 25 ms. */
  readonly intervalMs?: number;
  /**
   * When the observation `check` returned is the awaited one; default: when it is truthy. With `until`, `check`
   * returns what it observed (a count, a list of statuses) and a timeout reports that value, not just `false`.
   */
  readonly until?: (value: T) => boolean;
}

/**
 * The one way a test waits: on the condition itself, never on a sleep or on quiet, and it ends in an assertion.
 *
 * - `waitFor(check, options)` calls `check` (sync or async) every `intervalMs` until the value it returns is the
 *   awaited one (truthy, or `until(value)`), and returns that value. A `check` that throws (say an assertion inside
 *   it) counts as "not yet".
 * - `waitFor(promise, options)` waits for a promise (a waiter, a `stop()`) and returns its value; a rejection is
 *   passed on.
 *
 * On timeout it throws an `AssertionError` that names what was awaited and the last value observed (or the last
 * error `check` threw, or that the promise was still pending), so a test fails by asserting instead of hanging.
 */
export function waitFor<T>(check: () => T | Promise<T>, options: WaitForOptions<T> & { until: (value: T) => boolean }): Promise<T>;
export function waitFor<T>(check: () => T | Promise<T>, options?: WaitForOptions<T>): Promise<Truthy<T>>;
export function waitFor<T>(pending: PromiseLike<T>, options?: Omit<WaitForOptions, 'until' | 'intervalMs'>): Promise<T>;
export async function waitFor<T>(checkOrPending: (() => T | Promise<T>) | PromiseLike<T>, options: WaitForOptions<T> = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_FOR_TIMEOUT_MS;
  if (typeof checkOrPending !== 'function') return waitForPromise(checkOrPending, timeoutMs, options.what ?? 'a promise to settle');
  const check = checkOrPending;
  const isAwaited = options.until ?? ((value: T) => Boolean(value));
  const what = options.what ?? describeCheck(check);
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await check();
      if (isAwaited(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) {
      const observed =
        last === undefined ? '' : 'error' in last ? `; last error: ${describeError(last.error)}` : `; last observed: ${show(last.value)}`;
      throw timeoutError(
        `timed out after ${timeoutMs} ms waiting for ${what}${observed}`,
        last && 'value' in last ? last.value : undefined,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? DEFAULT_INTERVAL_MS));
  }
}

async function waitForPromise<T>(pending: PromiseLike<T>, timeoutMs: number, what: string): Promise<T> {
  const timedOut = Symbol('timed out');
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      pending,
      new Promise<typeof timedOut>((resolve) => (timer = setTimeout(resolve, timeoutMs, timedOut))),
    ]);
    // Thrown here rather than from the timer, so that the stack leads back to the test that waited.
    if (outcome === timedOut) throw timeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; still pending`, undefined);
    return outcome as T;
  } finally {
    clearTimeout(timer);
  }
}

function timeoutError(message: string, actual: unknown): AssertionError {
  return new AssertionError({ message, actual, operator: 'waitFor', stackStartFn: timeoutError });
}

/** Without a `what`, the check's own source says what was awaited ("() => receiver.requests.length === 1"). */
function describeCheck(check: () => unknown): string {
  const source = check.toString().replace(/\s+/g, ' ');
  return source.length > 160 ? `${source.slice(0, 157)}...` : source;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : show(error);
}

/** Bounded: a failure message stays readable even when the observed value is a large list. */
function show(value: unknown): string {
  return inspect(value, { depth: 3, breakLength: Infinity, compact: true, maxArrayLength: 20, maxStringLength: 200 });
}
