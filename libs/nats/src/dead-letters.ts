import { headers as createHeaders, type JetStreamClient, type JetStreamManager, type MsgHdrs, type MsgRequest, type StoredMsg } from 'nats';
import { deadLetterSubject, regionStreams } from './subjects';

/**
 * Why a consumer gave up on a message (low cardinality: a metric attribute):
 * - `handler_error`: the handler threw on every delivery;
 * - `retry_exhausted`: the handler asked for a retry on every delivery (a dependency stayed unavailable);
 * - `rejected`: the handler said the message can never be processed (e.g. undecodable);
 * - `redelivered`: the message came back more often than allowed without an outcome (processing it crashed the
 *   process or outlasted the ack wait every time).
 */
export type DeadLetterReasonKind = 'handler_error' | 'retry_exhausted' | 'rejected' | 'redelivered';

/** A message a consumer gave up on, as the dead-letter stream keeps it (its data is not loaded). */
export interface DeadLetter {
  /** Its sequence in the dead-letter stream, as a decimal string. */
  readonly id: string;
  readonly consumer: string;
  readonly reason: string;
  readonly reasonKind: DeadLetterReasonKind;
  readonly originalSubject: string;
  readonly originalStream: string;
  readonly originalSequence: number;
  readonly deliveryCount: number;
  /** When the original message was published (its stream timestamp). */
  readonly publishedAt: Date;
  readonly deadLetteredAt: Date;
  /** Size of the original message's data. */
  readonly sizeBytes: number;
  /**
   * The data is not in the dead letter: with the dead letter's headers it exceeded the server's max payload. Such a
   * dead letter can be listed and discarded, not replayed; the original may still be in its stream at its sequence.
   */
  readonly dataOmitted: boolean;
}

/** One page of dead letters, oldest first. */
export interface DeadLetterPage {
  readonly deadLetters: DeadLetter[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** Which dead letters of one consumer an operation applies to. */
export type DeadLetterSelection = { readonly ids: readonly string[] } | { readonly all: true };

/**
 * The region's dead-letter stream, read and managed: list, replay (publish again on the original subject, for the
 * one consumer that gave up), discard. Consumers write into it (see `startConsumer`).
 */
export interface DeadLetterStore {
  /** Dead letters of the given consumers, oldest first. `pageToken` is a previous page's `nextPageToken`. */
  list(options: { readonly consumers: readonly string[]; readonly pageSize: number; readonly pageToken?: string }): Promise<DeadLetterPage>;
  /**
   * Publishes the selected dead letters again on their original subjects, each with a fresh Nats-Msg-Id and
   * `Waygate-Replay-For: <consumer>` (so the subject's other consumers skip it), then removes them. Ids that are not
   * this consumer's dead letters, and dead letters without their data, are left alone. Resolves with how many were
   * replayed.
   */
  replay(consumer: string, selection: DeadLetterSelection): Promise<number>;
  /** Removes the selected dead letters for good; resolves with how many were removed. */
  discard(consumer: string, selection: DeadLetterSelection): Promise<number>;
}

/** A page token that is not one this store issued. */
export class InvalidPageTokenError extends Error {
  constructor() {
    super('page_token is not a token this API returned');
    this.name = 'InvalidPageTokenError';
  }
}

/** Header naming the one consumer a replayed message is for; every other consumer acknowledges it untouched. */
export const REPLAY_FOR_HEADER = 'Waygate-Replay-For';

const H = {
  consumer: 'Waygate-Dead-Letter-Consumer',
  reason: 'Waygate-Dead-Letter-Reason',
  reasonKind: 'Waygate-Dead-Letter-Reason-Kind',
  subject: 'Waygate-Original-Subject',
  stream: 'Waygate-Original-Stream',
  sequence: 'Waygate-Original-Sequence',
  deliveryCount: 'Waygate-Delivery-Count',
  publishedAt: 'Waygate-Published-At',
  deadLetteredAt: 'Waygate-Dead-Lettered-At',
  dataOmitted: 'Waygate-Data-Omitted-Size',
} as const;

const REASON_KINDS: ReadonlySet<string> = new Set<DeadLetterReasonKind>(['handler_error', 'retry_exhausted', 'rejected', 'redelivered']);

/** Longest reason kept: enough for an error's name and message, never a stack or a payload. */
const MAX_REASON_CHARS = 500;

/**
 * A reason as one bounded line (NATS header values cannot contain line breaks), with runs of seven or more digits
 * masked: an error message may quote a key (a driver's duplicate-key error names the phone number), and reasons are
 * logged.
 */
export function boundedReason(reason: string): string {
  const line = reason
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e\u00a0-\uffff]/g, '?')
    .replace(/\+?\d{7,}/g, '[digits]');
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 1)}…` : line;
}

/** Headers of the original message worth keeping (trace context, …); NATS's own and Waygate's are set afresh. */
function carriedHeaders(original: MsgHdrs | undefined): MsgHdrs {
  const carried = createHeaders();
  for (const key of original?.keys() ?? []) {
    if (/^(nats-|waygate-)/i.test(key)) continue;
    for (const value of original?.values(key) ?? []) carried.append(key, value);
  }
  return carried;
}

/** What a consumer records about a message it gives up on. */
export interface DeadLetterEntry {
  readonly consumer: string;
  readonly reason: string;
  readonly reasonKind: DeadLetterReasonKind;
  readonly subject: string;
  readonly stream: string;
  readonly sequence: number;
  readonly deliveryCount: number;
  readonly publishedAt: Date;
  readonly deadLetteredAt: Date;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/**
 * Stores a dead letter; resolves once JetStream has it. Its Nats-Msg-Id is the original's stream and sequence, so a
 * dead letter stored again (the original's `term` was lost and it came back) is kept once.
 */
export async function putDeadLetter(js: JetStreamClient, region: string, entry: DeadLetterEntry): Promise<void> {
  const headers = carriedHeaders(entry.headers);
  headers.set(H.consumer, entry.consumer);
  headers.set(H.reason, boundedReason(entry.reason));
  headers.set(H.reasonKind, entry.reasonKind);
  headers.set(H.subject, entry.subject);
  headers.set(H.stream, entry.stream);
  headers.set(H.sequence, String(entry.sequence));
  headers.set(H.deliveryCount, String(entry.deliveryCount));
  headers.set(H.publishedAt, entry.publishedAt.toISOString());
  headers.set(H.deadLetteredAt, entry.deadLetteredAt.toISOString());
  const subject = deadLetterSubject(region, entry.consumer);
  const msgID = `dead-letter:${entry.consumer}:${entry.stream}:${entry.sequence}`;
  try {
    await js.publish(subject, entry.data, { msgID, headers });
  } catch (error) {
    // An original close to the max payload no longer fits with these headers: keep the record without the data, or
    // the consumer would try to dead-letter it forever.
    if (!(error instanceof Error && /MAX_PAYLOAD/i.test(`${error.message} ${(error as { code?: string }).code ?? ''}`))) throw error;
    headers.set(H.dataOmitted, String(entry.data.length));
    await js.publish(subject, new Uint8Array(0), { msgID, headers });
  }
}

function isNoMessage(error: unknown): boolean {
  return error instanceof Error && /no message found|not found/i.test(error.message);
}

function dateHeader(message: StoredMsg, key: string): Date {
  const parsed = new Date(message.header.get(key));
  return Number.isNaN(parsed.getTime()) ? message.time : parsed;
}

function toDeadLetter(message: StoredMsg): DeadLetter {
  const header = (key: string) => message.header.get(key);
  const kind = header(H.reasonKind);
  const omittedSize = header(H.dataOmitted);
  return {
    id: String(message.seq),
    consumer: header(H.consumer),
    reason: header(H.reason),
    reasonKind: (REASON_KINDS.has(kind) ? kind : 'handler_error') as DeadLetterReasonKind,
    originalSubject: header(H.subject),
    originalStream: header(H.stream),
    originalSequence: Number(header(H.sequence)) || 0,
    deliveryCount: Number(header(H.deliveryCount)) || 0,
    publishedAt: dateHeader(message, H.publishedAt),
    deadLetteredAt: dateHeader(message, H.deadLetteredAt),
    sizeBytes: omittedSize ? Number(omittedSize) || 0 : message.data.length,
    dataOmitted: Boolean(omittedSize),
  };
}

const SEQUENCE = /^[1-9]\d{0,15}$/;

/** Whether `id` is a dead letter id (its sequence in the dead-letter stream); page tokens are ids too. */
export function isDeadLetterId(id: string): boolean {
  return SEQUENCE.test(id);
}

/** The region's dead-letter stream as a {@link DeadLetterStore}. */
export function createDeadLetterStore(connection: { js: JetStreamClient; jsm: JetStreamManager }, region: string): DeadLetterStore {
  const { js, jsm } = connection;
  const stream = regionStreams(region).deadLetters.name;

  /** The first dead letter of `consumer` at or after `seq`, if any (nats-server 2.9+: `next_by_subj`). */
  async function nextOf(consumer: string, seq: number): Promise<StoredMsg | undefined> {
    try {
      return await jsm.streams.getMessage(stream, { seq, next_by_subj: deadLetterSubject(region, consumer) } as unknown as MsgRequest);
    } catch (error) {
      if (isNoMessage(error)) return undefined;
      throw error;
    }
  }

  async function bySequence(consumer: string, id: string): Promise<StoredMsg | undefined> {
    if (!isDeadLetterId(id)) return undefined;
    try {
      const message = await jsm.streams.getMessage(stream, { seq: Number(id) });
      return message.subject === deadLetterSubject(region, consumer) ? message : undefined;
    } catch (error) {
      if (isNoMessage(error)) return undefined;
      throw error;
    }
  }

  /** The selected dead letters, one at a time; `all` stops at the stream's end as it was when the call began. */
  async function* selected(consumer: string, selection: DeadLetterSelection): AsyncGenerator<StoredMsg> {
    if ('ids' in selection) {
      for (const id of new Set(selection.ids)) {
        const message = await bySequence(consumer, id);
        if (message) yield message;
      }
      return;
    }
    // A replayed message that fails again becomes a new dead letter after this one: never chase those.
    const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
    for (let message = await nextOf(consumer, 1); message && message.seq <= lastSeq; message = await nextOf(consumer, message.seq + 1)) {
      yield message;
    }
  }

  return {
    async list({ consumers, pageSize, pageToken }) {
      if (pageToken && !isDeadLetterId(pageToken)) throw new InvalidPageTokenError();
      const start = pageToken ? Number(pageToken) : 1;
      // One cursor per consumer (2.9 filters on one subject at a time), merged by sequence.
      const heads = new Map<string, StoredMsg | undefined>();
      for (const consumer of new Set(consumers)) heads.set(consumer, await nextOf(consumer, start));
      const page: DeadLetter[] = [];
      for (;;) {
        let next: [string, StoredMsg] | undefined;
        for (const [consumer, head] of heads) if (head && (!next || head.seq < next[1].seq)) next = [consumer, head];
        if (!next) return { deadLetters: page, nextPageToken: '' };
        if (page.length === pageSize) return { deadLetters: page, nextPageToken: String(next[1].seq) };
        page.push(toDeadLetter(next[1]));
        heads.set(next[0], await nextOf(next[0], next[1].seq + 1));
      }
    },

    async replay(consumer, selection) {
      let replayed = 0;
      for await (const message of selected(consumer, selection)) {
        const letter = toDeadLetter(message);
        // Not written by a consumer (nothing to replay it to), or without its data (too large to keep): not replayable.
        if (!letter.originalSubject || letter.dataOmitted) continue;
        const headers = carriedHeaders(message.header);
        headers.set(REPLAY_FOR_HEADER, consumer);
        // Fresh, yet the same for a replay of this dead letter retried within the duplicate window (stored once).
        await js.publish(letter.originalSubject, message.data, {
          msgID: `dead-letter-replay:${stream}:${message.seq}:${letter.deadLetteredAt.getTime()}`,
          headers,
        });
        await jsm.streams.deleteMessage(stream, message.seq, false);
        replayed++;
      }
      return replayed;
    },

    async discard(consumer, selection) {
      let discarded = 0;
      for await (const message of selected(consumer, selection)) {
        await jsm.streams.deleteMessage(stream, message.seq);
        discarded++;
      }
      return discarded;
    },
  };
}
