/** Meta's `wa_id` form: E.164 digits without '+'. */
export const WA_ID_PATTERN = /^\d{5,15}$/;

/** Meta's `wa_id`: the E.164 number as digits only. */
export function toWaId(phoneNumber: string): string {
  return phoneNumber.replace(/\D/g, '');
}

/**
 * The wa_id Meta answers for a send to `phoneNumber` (contacts[].wa_id), which is not always its digits, as on the real
 * WhatsApp: a Brazilian mobile number dialled with the ninth digit (+55 AA 9XXXXXXXX) reaches an account registered
 * before the digit existed, whose wa_id lacks it (55 AA XXXXXXXX); a Mexican mobile dialled without the old `1`
 * (+52 XXXXXXXXXX) has a wa_id with it (52 1 XXXXXXXXXX). Every other number's wa_id is its digits.
 */
export function answeredWaId(phoneNumber: string): string {
  const digits = toWaId(phoneNumber);
  const brazil = /^55(\d{2})9(\d{8})$/.exec(digits);
  if (brazil) return `55${brazil[1]}${brazil[2]}`;
  const mexico = /^52(\d{10})$/.exec(digits);
  if (mexico) return `521${mexico[1]}`;
  return digits;
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
