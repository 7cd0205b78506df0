/**
 * Bounds for JSON values Waygate keeps without understanding them (Meta's order items, system notices, contact cards,
 * message types it does not know yet). JSON.parse takes any nesting, but everything after it — JSON.stringify,
 * structured clones, BSON, protobuf — recurses, and a field nested a few thousand levels deep overflows the stack.
 * So nothing here recurses, and what comes out is shallow and small enough for every later step.
 */

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** Whether a parsed JSON value is an object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a part of a value was left out. */
export type OmissionReason = 'depth' | 'size';

/** A bounded copy of a JSON value. */
export interface BoundedJson {
  readonly value: unknown;
  /** Empty when the copy is whole. */
  readonly omitted: ReadonlySet<OmissionReason>;
}

/** The string that stands in for a container nested deeper than `maxDepth`. */
export function deeperThanMarker(maxDepth: number): string {
  return `[omitted: nested deeper than ${maxDepth} levels]`;
}

/** The string that stands in for what did not fit into `maxBytes`. */
export function largerThanMarker(maxBytes: number): string {
  return `[omitted: over the ${maxBytes}-byte limit]`;
}

/** The key under which an object records that some of its entries did not fit. */
export const OMITTED_KEY = '…';

type Container = unknown[] | Record<string, unknown>;

interface Frame {
  readonly source: Container;
  readonly target: Container;
  readonly keys: readonly string[] | undefined;
  readonly depth: number;
  index: number;
}

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/** Sets an own property, even `__proto__` (JSON.parse makes it an ordinary key; assignment would set the prototype). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function add(target: Container, key: string | undefined, value: unknown): void {
  if (Array.isArray(target)) target.push(value);
  else define(target, key as string, value);
}

/** JSON text length of a scalar, in UTF-16 units (escapes included: a string of NULs is six times its length). */
function scalarBytes(value: unknown): number {
  if (typeof value === 'string') return JSON.stringify(value).length;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value).length : 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  return 4; // null, and anything JSON cannot hold (serialized as null)
}

/**
 * Copies a JSON value (as JSON.parse returns it) with at most `maxDepth` levels of nesting and about `maxBytes` of
 * JSON text, without recursion, in time proportional to what it keeps. A container nested deeper is replaced by
 * {@link deeperThanMarker}; once the budget is spent the remaining entries are left out, and each container that lost
 * entries says so once ({@link largerThanMarker}: the last array item, or the value of {@link OMITTED_KEY}).
 */
export function boundJson(value: unknown, limits: { readonly maxDepth: number; readonly maxBytes: number }): BoundedJson {
  const omitted = new Set<OmissionReason>();
  const deeper = deeperThanMarker(limits.maxDepth);
  const larger = largerThanMarker(limits.maxBytes);
  let budget = limits.maxBytes;

  const open = (source: Container, depth: number): Frame => {
    const isArray = Array.isArray(source);
    return { source, target: isArray ? [] : {}, keys: isArray ? undefined : Object.keys(source), depth, index: 0 };
  };
  if (!isContainer(value)) {
    if (scalarBytes(value) <= budget) return { value, omitted };
    return { value: larger, omitted: new Set(['size']) };
  }
  if (limits.maxDepth < 1) return { value: deeper, omitted: new Set(['depth']) };
  budget -= 2;
  const root = open(value, 1);
  const stack: Frame[] = [root];
  const truncated = new Set<Frame>();

  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const length = frame.keys ? frame.keys.length : (frame.source as unknown[]).length;
    if (frame.index >= length || budget <= 0) {
      if (frame.index < length && !truncated.has(frame)) {
        truncated.add(frame);
        omitted.add('size');
        add(frame.target, OMITTED_KEY, larger);
      }
      stack.pop();
      continue;
    }
    const key = frame.keys ? frame.keys[frame.index] : undefined;
    const item = key === undefined ? (frame.source as unknown[])[frame.index] : (frame.source as Record<string, unknown>)[key];
    frame.index++;
    const keyBytes = key === undefined ? 1 : JSON.stringify(key).length + 2;
    if (!isContainer(item)) {
      const bytes = keyBytes + scalarBytes(item);
      if (bytes > budget) {
        budget = 0; // the rest is left out, marked once per container as the stack unwinds
        frame.index--;
        continue;
      }
      budget -= bytes;
      add(frame.target, key, item);
      continue;
    }
    if (frame.depth + 1 > limits.maxDepth) {
      omitted.add('depth');
      budget -= keyBytes + deeper.length + 2;
      add(frame.target, key, deeper);
      continue;
    }
    if (keyBytes + 2 > budget) {
      budget = 0;
      frame.index--;
      continue;
    }
    budget -= keyBytes + 2;
    const child = open(item, frame.depth + 1);
    add(frame.target, key, child.target);
    stack.push(child);
  }
  return { value: root.target, omitted };
}

/** Whether a JSON value nests deeper than `maxDepth` (counted without recursion; stops at the first too-deep part). */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (!isContainer(item)) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return false;
}
