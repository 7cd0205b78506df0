import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ArchiveServiceClient, MessageStatus, MessagingServiceClient, type ListMessageEventsResponse, type Message } from '@waygate/proto';
import { createTempDir } from '@waygate/testing';
import { sendDemoMessage } from './demo-message';
import { backupRegion, restoreRegion, verifyBackup } from './region-backup';
import { startLocalStack, type LocalStack, freeStackPorts } from './stack';

function call<T>(run: (callback: (error: ServiceError | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))));
}

test('a region backed up while running, wiped and restored has its messages, statuses and archive back', { timeout: 240_000 }, async () => {
  const dir = createTempDir('waygate-backup-');
  const ports = await freeStackPorts();
  const out = path.join(dir.path, 'backup');
  const start = () => startLocalStack({ dataDir: path.join(dir.path, 'data'), ports, onLine: () => undefined });
  let stack: LocalStack | undefined = await start();
  try {
    const apiKey = stack.credentials.apiKey;
    const address = `127.0.0.1:${ports.grpc.ingress}`;
    const send = (text: string) => sendDemoMessage({ address, apiKey, text, simulatorUrl: stack?.simulatorUrl, onStatus: () => undefined });
    const kept = await send('kept by the backup');
    assert.equal(kept.status, MessageStatus.MESSAGE_STATUS_READ);

    const manifest = await backupRegion({ dataDir: path.join(dir.path, 'data'), region: 'eu', out, natsPort: ports.nats });
    assert.equal(manifest.jetstream, 'running');
    assert.deepEqual(
      manifest.sqlite.map((s) => s.file),
      [
        'access-log.sqlite',
        'archive-erasures.sqlite',
        'archive-governance.sqlite',
        'archive.sqlite',
        'delivery-retry.sqlite',
        'ingress-customers.sqlite',
        'ingress-opt-outs.sqlite',
        'ingress-quotas.sqlite',
        'ingress-templates.sqlite',
        'ingress-verifications.sqlite',
        'ingress.sqlite',
        'media-store.sqlite',
        'receipt-feed.sqlite',
        'receipt-inbound.sqlite',
        'receipt.sqlite',
      ],
    );
    assert.ok(
      manifest.sqlite.every((s) => s.schemaVersion >= 1),
      'each file records its schema version',
    );
    assert.ok(existsSync(path.join(out, 'keyring.kek')), 'the local key-encryption key');
    await assert.rejects(backupRegion({ dataDir: path.join(dir.path, 'data'), region: 'eu', out, natsPort: ports.nats }), /not empty/);

    const after = await send('sent after the backup');
    await assert.rejects(
      restoreRegion({ dataDir: path.join(dir.path, 'data'), from: out, natsPort: ports.nats }),
      /stop it before restoring/,
    );
    await stack.stop();
    stack = undefined;

    // A damaged backup is refused before anything is touched.
    const damaged = path.join(dir.path, 'damaged');
    cpSync(out, damaged, { recursive: true });
    writeFileSync(path.join(damaged, 'sqlite', 'ingress.sqlite'), 'not a database');
    assert.throws(() => verifyBackup(damaged), /changed since the backup: sqlite\/ingress\.sqlite/);
    await assert.rejects(restoreRegion({ dataDir: path.join(dir.path, 'data'), from: damaged, natsPort: ports.nats }), /changed/);
    assert.ok(existsSync(path.join(dir.path, 'data', 'eu', 'ingress.sqlite')), 'a refused restore changed nothing');

    // Wipe the region: its SQLite files, key and JetStream store.
    rmSync(path.join(dir.path, 'data', 'eu'), { recursive: true });
    rmSync(path.join(dir.path, 'data', 'nats'), { recursive: true });
    const restored = await restoreRegion({ dataDir: path.join(dir.path, 'data'), from: out, natsPort: ports.nats });
    assert.equal(restored.region, 'eu');
    assert.ok(readdirSync(path.join(dir.path, 'data', 'nats')).length > 0, 'the JetStream store is back');

    stack = await start();
    const client = new MessagingServiceClient(address, credentials.createInsecure());
    const archive = new ArchiveServiceClient(`127.0.0.1:${ports.grpc.archive}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${apiKey}`);
    try {
      const found = await call<Message>((callback) => client.getMessage({ messageId: kept.messageId }, metadata, callback));
      assert.equal(found.status, MessageStatus.MESSAGE_STATUS_READ);
      assert.deepEqual(
        found.timeline.map((entry) => entry.status),
        kept.timeline.map((entry) => entry.status),
      );
      const archived = await call<ListMessageEventsResponse>((callback) =>
        archive.listMessageEvents({ messageId: kept.messageId }, metadata, callback),
      );
      assert.ok(
        archived.events.some((event) => event.status === MessageStatus.MESSAGE_STATUS_READ),
        'the archive has its READ status',
      );
      await assert.rejects(
        call<Message>((callback) => client.getMessage({ messageId: after.messageId }, metadata, callback)),
        (error: unknown) => (error as ServiceError).code === status.NOT_FOUND,
        'what came after the backup is not in it',
      );
      // The restored region works on: a new message goes all the way.
      assert.equal((await send('after the restore')).status, MessageStatus.MESSAGE_STATUS_READ);
    } finally {
      client.close();
      archive.close();
    }
  } finally {
    await stack?.stop();
    dir.remove();
  }
});
