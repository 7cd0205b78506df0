import { waitFor, type WaitForOptions } from './wait-for';

/** What this needs of a JetStream manager (`jsm` of the nats client), so libs/testing does not depend on the client. */
export interface ConsumerInfoReader {
  readonly consumers: {
    info(stream: string, durable: string): Promise<{ readonly num_pending: number; readonly num_ack_pending: number }>;
  };
}

/**
 * Waits until each durable consumer has processed everything published to its stream so far: nothing pending and
 * nothing delivered but not yet acknowledged (or rejected). The wait a test needs before it reads what consumers
 * wrote, or asserts that something was not written; a timeout fails naming the consumer.
 */
export async function waitForConsumersCaughtUp(
  jsm: ConsumerInfoReader,
  consumers: readonly (readonly [stream: string, durable: string])[],
  options: Pick<WaitForOptions, 'timeoutMs'> = {},
): Promise<void> {
  for (const [stream, durable] of consumers) {
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(stream, durable);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { what: `${durable} to catch up`, ...options },
    );
  }
}
