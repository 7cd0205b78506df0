/** Meta's `wa_id` form: E.164 digits without '+'. */
export const WA_ID_PATTERN = /^\d{5,15}$/;

/** Meta's `wa_id`: the E.164 number as digits only. */
export function toWaId(phoneNumber: string): string {
  return phoneNumber.replace(/\D/g, '');
}

/** True when `value` is plausibly a phone number: digits with optional '+', spaces, dots, dashes, brackets. */
export function looksLikePhoneNumber(value: string): boolean {
  if (!/^\+?[\d\s().-]+$/.test(value)) return false;
  const digitCount = toWaId(value).length;
  // E.164 allows at most 15 digits; very short inputs are typos, not numbers.
  return digitCount >= 5 && digitCount <= 15;
}

/** Masks all but the last 4 digits so logs never carry full phone numbers. */
export function maskPhoneNumber(phoneNumber: string): string {
  const digits = toWaId(phoneNumber);
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}
