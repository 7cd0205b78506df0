import type { CloudApiSendOutcome } from './whatsapp-client';

/** What to do after a Cloud API call. */
export type OutcomeClass = 'sent' | 'retry' | 'permanent' | 'needs-configuration';

/**
 * Meta error codes that will not succeed on retry (the recipient or the request is the problem).
 * Source: Meta's Cloud API error-code reference; the full table with retry guidance is in docs/delivery-outcomes.md.
 */
const PERMANENT_CODES = new Set([
  100, // invalid parameter
  131008, // required parameter missing
  131009, // parameter value not valid
  131026, // message undeliverable (not on WhatsApp, old app, ...)
  131047, // re-engagement: outside the 24-hour window
  131051, // unsupported message type
  131052, // media download error
  131053, // media upload error
  132000, // template parameter count mismatch
  132001, // template does not exist
  130403, // recipient cannot be messaged
  131050, // user stopped marketing messages
]);

/** Errors an operator must fix (token, permissions, phone number registration); retried slowly meanwhile. */
const CONFIGURATION_CODES = new Set([
  0, // AuthException
  3, // capability or permissions
  10, // permission denied
  190, // access token expired or invalid
  200, // permissions
  131031, // business account locked
  133010, // phone number not registered
]);

/** Classifies one Cloud API outcome (the table in docs/delivery-outcomes.md). */
export function classifyOutcome(outcome: CloudApiSendOutcome): OutcomeClass {
  if (outcome.kind === 'accepted') return 'sent';
  if (outcome.kind === 'no-answer') return 'retry';
  if (outcome.httpStatus >= 500 || outcome.httpStatus === 429) return 'retry';
  if (outcome.code !== 0 && PERMANENT_CODES.has(outcome.code)) return 'permanent';
  if (CONFIGURATION_CODES.has(outcome.code) || outcome.httpStatus === 401 || outcome.httpStatus === 403) return 'needs-configuration';
  // Throttling (130429, 131056, 4, 80007), transient (1, 2, 131000, 131016) and anything unknown: try again.
  return 'retry';
}

/**
 * Delay before attempt `attempts + 1`: exponential from `baseMs`, capped at `maxMs`, with full jitter so that
 * many messages failing together do not retry together. `random` is injectable for tests.
 */
export function retryDelayMs(attempts: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.max(options.baseMs, Math.round(ceiling * random()));
}
