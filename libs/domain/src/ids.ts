import { randomBytes } from 'node:crypto';

/**
 * A new id with a readable prefix and a time-ordered body (48-bit millisecond time + 80 random bits, hex), so ids
 * sort by creation time in logs and indexes.
 */
export function newId(prefix: string, now: Date = new Date()): string {
  const time = now.getTime().toString(16).padStart(12, '0');
  return `${prefix}_${time}${randomBytes(10).toString('hex')}`;
}
