import type { ConsumerMessages, JetStreamClient } from 'nats';

/** One event as the stream stored it. */
export interface LoggedEvent<T> {
  readonly seq: number;
  /** The Nats-Msg-Id it was published with (the event id). */
  readonly msgId: string | undefined;
  readonly event: T;
}

/** Everything a stream stores on one subject, decoded, kept up to date while the test runs. */
export interface EventLog<T> {
  readonly events: LoggedEvent<T>[];
  stop(): Promise<void>;
}

/**
 * Follows `subject` in `stream` from its first message with an ordered consumer. It reads what JetStream stored, so a
 * publish de-duplicated by its Nats-Msg-Id shows up once, exactly as consumers see it.
 */
export async function followEvents<T>(
  js: JetStreamClient,
  stream: string,
  subject: string,
  decode: (data: Uint8Array) => T | Promise<T>,
): Promise<EventLog<T>> {
  // A single subject as a string: nats-server 2.9 (Debian's) knows `filter_subject` only.
  const consumer = await js.consumers.get(stream, { filterSubjects: subject });
  const messages: ConsumerMessages = await consumer.consume();
  const events: LoggedEvent<T>[] = [];
  const loop = (async () => {
    for await (const message of messages) {
      events.push({ seq: message.seq, msgId: message.headers?.get('Nats-Msg-Id') || undefined, event: await decode(message.data) });
    }
  })();
  return {
    events,
    async stop() {
      messages.stop();
      await loop;
    },
  };
}
