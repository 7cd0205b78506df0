/**
 * Writes the "previous release" fixture that upgrade-from-previous-release.e2e.test.ts starts the current code on:
 * `npx tsx tools/e2e/src/make-previous-release-fixture.ts tools/e2e/fixtures/release-1` (run it on the release's
 * commit). It runs the platform (eu, SQLite) on free ports, has a customer write (a text, then an image), sends a
 * message that is READ, stops cleanly, and keeps every SQLite file as SQL text with the dev credentials, the media key
 * and what to look for (expected.json), and every event the release published, as it published it (events.jsonl:
 * subject, Nats-Msg-Id and the encoded bytes), for the mixed-version test.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectJetStream } from '@waygate/nats';
import { createTempDir, freePort, waitFor } from '@waygate/testing';
import { sendDemoMessage, startLocalStack } from '@waygate/local-run';
import { dumpSqlite } from './sqlite-sql-dump';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'tools/e2e/fixtures/release-1');
  const dir = createTempDir('waygate-fixture-');
  const lines: string[] = [];
  const port = () => freePort();
  const ports = {
    nats: await port(),
    simulator: await port(),
    webhook: await port(),
    grpc: {
      ingress: await port(),
      receipt: await port(),
      'media-store': await port(),
      archive: await port(),
      'delivery-retry': await port(),
    },
  };
  const stack = await startLocalStack({ dataDir: dir.path, ports, onLine: (_name, line) => lines.push(line) });
  const observer = await connectJetStream(`nats://127.0.0.1:${ports.nats}`, 'fixture-observer');
  const events: { subject: string; msgId: string; data: string }[] = [];
  const subscription = observer.nc.subscribe('waygate.eu.>', {
    callback: (_error, message) =>
      events.push({
        subject: message.subject,
        msgId: message.headers?.get('Nats-Msg-Id') ?? '',
        data: Buffer.from(message.data).toString('base64'),
      }),
  });
  try {
    const customer = '4915155509876';
    const image = await fetch(`${stack.simulatorUrl}/_simulator/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: {
          type: 'image',
          from: customer,
          caption: 'release-1 image',
          media: {
            base64: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 1, 2, 3, 0xff, 0xd9]).toString('base64'),
            mimeType: 'image/jpeg',
          },
        },
      }),
    });
    const inbound = (await image.json()) as { messageId: string };
    const sent = await sendDemoMessage({
      address: `127.0.0.1:${ports.grpc.ingress}`,
      apiKey: stack.credentials.apiKey,
      to: `+${customer}`,
      text: 'release-1 message',
      simulatorUrl: stack.simulatorUrl,
      onStatus: () => undefined,
    });
    await waitFor(() => lines.filter((line) => line.includes('"event archived"')).length >= 6, { what: 'the archive to catch up' });
    await observer.nc.flush();
    subscription.unsubscribe();
    await observer.nc.close();
    await stack.stop();
    mkdirSync(path.join(out, 'eu'), { recursive: true });
    writeFileSync(path.join(out, 'events.jsonl'), events.map((event) => JSON.stringify(event)).join('\n') + '\n');
    for (const name of readdirSync(path.join(dir.path, 'eu')).filter((file) => file.endsWith('.sqlite'))) {
      writeFileSync(path.join(out, 'eu', `${name}.sql`), dumpSqlite(path.join(dir.path, 'eu', name)));
    }
    copyFileSync(path.join(dir.path, 'eu', 'media-store.key'), path.join(out, 'eu', 'media-store.key'));
    copyFileSync(path.join(dir.path, 'dev-credentials.json'), path.join(out, 'dev-credentials.json'));
    writeFileSync(
      path.join(out, 'expected.json'),
      `${JSON.stringify({ sentMessageId: sent.messageId, sentStatus: 'MESSAGE_STATUS_READ', inboundWamid: inbound.messageId, customer: `+${customer}` }, null, 2)}\n`,
    );
    process.stdout.write(`fixture written to ${out}\n`);
  } finally {
    await stack.stop();
    dir.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
