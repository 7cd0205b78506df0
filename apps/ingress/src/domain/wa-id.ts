/**
 * The wa_ids a send's `to` (E.164) may reach when Meta has not told us yet, most likely first. A wa_id is usually the
 * number's digits, but not always:
 * - Brazil (+55): mobile numbers gained a ninth digit (a 9 after the two-digit area code) in 2012-2016; accounts
 *   registered before keep a wa_id without it, so `+55 11 9xxxx xxxx` may be wa_id `55 11 xxxx xxxx` and the reverse.
 * - Mexico (+52): mobile wa_ids carry the old `1` after the country code (`52 1 xxxxxxxxxx`), whether or not the
 *   business dials it.
 * Meta's answer to a send (contacts[].wa_id) is the authority; these candidates only let a customer who wrote first
 * be found before any send to them was answered.
 */
export function waIdCandidates(to: string): string[] {
  const digits = to.replace(/\D/g, '');
  const candidates = [digits];
  const brazilWithNinth = /^55(\d{2})9(\d{8})$/.exec(digits);
  const brazilWithoutNinth = /^55(\d{2})([6-9]\d{7})$/.exec(digits);
  if (brazilWithNinth) candidates.push(`55${brazilWithNinth[1]}${brazilWithNinth[2]}`);
  else if (brazilWithoutNinth) candidates.push(`55${brazilWithoutNinth[1]}9${brazilWithoutNinth[2]}`);
  const mexicoWithOne = /^521(\d{10})$/.exec(digits);
  const mexicoWithoutOne = /^52(\d{10})$/.exec(digits);
  if (mexicoWithOne) candidates.push(`52${mexicoWithOne[1]}`);
  else if (mexicoWithoutOne) candidates.push(`521${mexicoWithoutOne[1]}`);
  return candidates;
}
