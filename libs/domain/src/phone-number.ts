/** E.164: a plus sign, a non-zero leading digit, 8 to 15 digits in all (ITU-T E.164 allows at most 15). */
const E164_PATTERN = /^\+[1-9]\d{7,14}$/;

/** Whether `value` is a phone number in E.164 form, e.g. "+4915112345678". */
export function isE164(value: string): boolean {
  return E164_PATTERN.test(value);
}

/** WhatsApp's `wa_id` for an E.164 number: the digits without the plus sign. */
export function toWaId(e164: string): string {
  return e164.replace(/^\+/, '');
}

/** A phone number safe to log: all but the last four digits masked. */
export function maskPhoneNumber(value: string): string {
  const digits = value.replace(/\D/g, '');
  return digits.length <= 4 ? '****' : `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}
