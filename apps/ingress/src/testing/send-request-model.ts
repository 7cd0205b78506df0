/**
 * The SendMessage validation rules written a second time, independently of domain/send-request.ts (code points
 * counted by hand, durations in BigInt), for the property tests: when the two disagree, one of them is wrong.
 */
import type { SendRequest } from '../domain/send-request';

/** Every reason a SendMessage field violation may carry. */
export const REASONS: ReadonlySet<string> = new Set([
  'REQUIRED',
  'INVALID_FORMAT',
  'INVALID_CHARACTER',
  'TOO_LONG',
  'OUT_OF_RANGE',
  'UNKNOWN',
]);

const MIN_NANOS = 30n * 1_000_000_000n;
const MAX_NANOS = 30n * 86_400n * 1_000_000_000n;

function codePoints(text: string): number[] {
  const points: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      points.push(((unit - 0xd800) << 10) + (next - 0xdc00) + 0x10000);
      i++;
    } else points.push(unit);
  }
  return points;
}
/** Control characters (C0, DEL, C1) but tab, LF and CR; and unpaired surrogates. */
function isForbidden(point: number): boolean {
  if (point === 0x09 || point === 0x0a || point === 0x0d) return false;
  return point <= 0x1f || (point >= 0x7f && point <= 0x9f) || (point >= 0xd800 && point <= 0xdfff);
}
/**
 * The fields of `request` that SendMessage must refuse, by the documented rules (the proto comments and
 * apps/ingress/README.md), for a tenant whose phone numbers are `phoneNumberIds` (the first is the default).
 */
export function expectedViolations(request: SendRequest, phoneNumberIds: readonly string[]): Set<string> {
  const bad = new Set<string>();
  if (!/^\+[1-9][0-9]{7,14}$/.test(request.to)) bad.add('to');
  if (!request.content) bad.add('content');
  // The generators make text only; every other kind's rules are tested by domain/content-validation.test.ts.
  else if (request.content.kind === 'text') {
    const points = codePoints(request.content.body);
    if (request.content.body.trim() === '' || points.length > 4096 || points.some(isForbidden)) bad.add('text.body');
  }
  const key = request.idempotencyKey;
  if (key.length < 1 || key.length > 128 || [...key].some((c) => c.charCodeAt(0) < 0x21 || c.charCodeAt(0) > 0x7e))
    bad.add('idempotency_key');
  if (request.validity) {
    const { seconds, nanos } = request.validity;
    if (!Number.isInteger(seconds) || Math.abs(seconds) > 315_576_000_000) bad.add('validity.seconds');
    else if (!Number.isInteger(nanos) || Math.abs(nanos) > 999_999_999 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
      bad.add('validity.nanos');
    } else {
      const total = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
      if (total < MIN_NANOS || total > MAX_NANOS) bad.add('validity');
    }
  }
  if (!phoneNumberIds.includes(request.phoneNumberId || phoneNumberIds[0])) bad.add('phone_number_id');
  return bad;
}
