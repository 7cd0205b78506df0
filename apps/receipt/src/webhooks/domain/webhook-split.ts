/**
 * Meta sends webhook bodies of up to 3 MB, but a JetStream message holds at most the server's `max_payload` (1 MB by
 * default). A verified body larger than that is queued as several smaller bodies of the same shape, each a valid
 * webhook on its own: the processor applies each part like any webhook, and every part is idempotent, so a body that
 * is queued again in full (Meta retried after a partial failure) changes nothing twice.
 *
 * Parts keep entries and changes whole where they fit; a change too large alone is split along its `statuses`,
 * `messages` and `errors` arrays, each part carrying the change's `metadata` (and `contacts` with messages, which name
 * the senders). A single status or message larger than the limit cannot be split and is returned as one oversized
 * part; queuing it then fails and Meta retries, as before.
 */

import { isJsonObject, type JsonObject } from './bounded-json';

const encoder = new TextEncoder();
const byteLength = (value: unknown) => encoder.encode(JSON.stringify(value)).length;

/**
 * Sizes without re-serializing: `JSON.stringify` of a container whose one array holds `items` is the size with an
 * empty array, plus each item's size, plus a comma between items. So each item is serialized once, and packing is
 * linear in the body's size.
 */
class ArrayPacker<T> {
  private items: T[] = [];
  private bytes: number;
  constructor(
    private readonly emptyBytes: number,
    private readonly maxBytes: number,
    private readonly emit: (items: T[]) => void,
  ) {
    this.bytes = emptyBytes;
  }
  add(item: T, itemBytes: number): void {
    const added = itemBytes + (this.items.length > 0 ? 1 : 0);
    if (this.items.length > 0 && this.bytes + added > this.maxBytes) this.flush();
    this.bytes += itemBytes + (this.items.length > 0 ? 1 : 0);
    this.items.push(item);
  }
  flush(): void {
    if (this.items.length > 0) this.emit(this.items);
    this.items = [];
    this.bytes = this.emptyBytes;
  }
}

/** The arrays of a change's `value` whose items can go to different parts. */
const SPLITTABLE = ['statuses', 'messages', 'errors'] as const;

/** A change split along its arrays into changes whose size, plus `overheadBytes`, stays within `maxBytes`. */
function splitChange(change: JsonObject, overheadBytes: number, maxBytes: number): JsonObject[] {
  const value = isJsonObject(change.value) ? change.value : undefined;
  if (!value) return [change];
  const { statuses: _s, messages: _m, errors: _e, contacts, ...common } = value;
  const parts: JsonObject[] = [];
  for (const key of SPLITTABLE) {
    const items = value[key];
    if (!Array.isArray(items) || items.length === 0) continue;
    // Messages carry the contacts that name their senders; statuses and errors need only the metadata.
    const base = key === 'messages' && contacts !== undefined ? { ...common, contacts } : common;
    const changeOf = (list: unknown[]): JsonObject => ({ ...change, value: { ...base, [key]: list } });
    const packer = new ArrayPacker<unknown>(overheadBytes + byteLength(changeOf([])), maxBytes, (list) => parts.push(changeOf(list)));
    for (const item of items) packer.add(item, byteLength(item));
    packer.flush();
  }
  return parts.length > 0 ? parts : [change];
}

/**
 * Splits a verified webhook body into bodies of at most `maxBytes` each (UTF-8 JSON). A body within the limit, or one
 * that is not a `whatsapp_business_account` payload with entries, is returned as it is.
 */
export function splitWebhookBody(body: Uint8Array, maxBytes: number): Uint8Array[] {
  if (body.length <= maxBytes) return [body];
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return [body];
  }
  if (!isJsonObject(payload) || !Array.isArray(payload.entry)) return [body];
  const { entry: entries, ...envelope } = payload;
  const wrap = (entryList: unknown[]): JsonObject => ({ ...envelope, entry: entryList });
  const emptyBodyBytes = byteLength(wrap([]));

  const bodies: Uint8Array[] = [];
  // Entries, in order, packed into as few bodies as fit; an entry too large alone goes in as one piece per change (or
  // per part of a change).
  const packer = new ArrayPacker<unknown>(emptyBodyBytes, maxBytes, (list) => bodies.push(encoder.encode(JSON.stringify(wrap(list)))));
  for (const entry of entries as unknown[]) {
    const entryBytes = byteLength(entry);
    const changes = isJsonObject(entry) && Array.isArray(entry.changes) ? (entry.changes as unknown[]) : [];
    if (!isJsonObject(entry) || emptyBodyBytes + entryBytes <= maxBytes || changes.length === 0) {
      packer.add(entry, entryBytes);
      continue;
    }
    const withChange = (change: unknown): JsonObject => ({ ...entry, changes: [change] });
    // The body around one change of this entry: the entry with an empty changes list, in a body of its own.
    const aroundChange = emptyBodyBytes + byteLength({ ...entry, changes: [] });
    for (const change of changes) {
      const changeBytes = byteLength(change);
      if (!isJsonObject(change) || aroundChange + changeBytes <= maxBytes) {
        packer.add(withChange(change), aroundChange - emptyBodyBytes + changeBytes);
        continue;
      }
      for (const part of splitChange(change, aroundChange, maxBytes)) {
        packer.add(withChange(part), aroundChange - emptyBodyBytes + byteLength(part));
      }
    }
  }
  packer.flush();
  return bodies;
}
