/**
 * A durable consumer as its own process, for the crash test of libs/nats (`consumer-crash.process.test.ts`): it
 * consumes the outbound stream as `delivery-retry`, appends each message's text to a file (its durable effect, before
 * the ack) and prints `ready` once consuming. Arguments: NATS URL, output file, ack wait in ms.
 */
import { appendFileSync } from 'node:fs';
import { createLogger } from '@waygate/telemetry-sdk';
import { OUTBOUND_CONSUMERS, connectJetStream, ensureRegionStreams, regionStreams, regionSubjects, startConsumer } from '../index';

const [url, outputFile, ackWaitMs] = process.argv.slice(2);

async function main(): Promise<void> {
  const connection = await connectJetStream(url, 'crash-consumer');
  await ensureRegionStreams(connection.jsm, 'eu');
  await startConsumer(connection, {
    region: 'eu',
    stream: regionStreams('eu').outbound.name,
    durable: OUTBOUND_CONSUMERS.delivery,
    filterSubject: regionSubjects('eu').outboundAccepted,
    concurrency: 1,
    ackWaitMs: Number(ackWaitMs),
    logger: createLogger({ service: 'crash-consumer', level: 'warn' }),
    handle: async (data) => {
      // Some work per message, so that a kill finds messages fetched but not yet handled.
      await new Promise((resolve) => setTimeout(resolve, 2));
      appendFileSync(outputFile, `${new TextDecoder().decode(data)}\n`);
      return { kind: 'ack' };
    },
  });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
