import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CustomerDataRecord } from '@waygate/domain';
import { createInMemoryKeyring } from '@waygate/keyring';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { createFileTypeSniffer } from './adapters/file-type-sniffer';
import { FileMediaVaultStore } from './adapters/file-media-vault-store';
import { createMediaCustomerData } from './domain/media-customer-data';
import { createMediaMetrics } from './domain/media-metrics';
import { createMediaVault } from './domain/media-vault';

const acme = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200'] }])).get('acme') as Tenant;
const ERASED = '+4915100000333';
const KEPT = '+4915100000444';

/** Every file under `root` whose bytes contain `needle`. */
function filesContaining(root: string, needle: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file).includes(needle));
}

const blobFiles = (root: string) =>
  readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.wgm')).length;

test("media-store erasure: the customer's media ids and blob files are gone, other customers' media is still served; idempotent", async () => {
  const dir = createTempDir();
  const keyring = createInMemoryKeyring();
  const store = new FileMediaVaultStore(path.join(dir.path, 'media-store.sqlite'), path.join(dir.path, 'blobs'));
  try {
    const vault = createMediaVault({
      store,
      keys: keyring,
      sniffer: createFileTypeSniffer(),
      clock: { now: () => new Date() },
      metrics: createMediaMetrics(),
    });
    const upload = async (customer: string, filename: string, text: string) => {
      const bytes = Buffer.from(text, 'utf8');
      return vault.upload(
        acme,
        { mimeType: 'text/plain', filename, sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), customer },
        (async function* () {
          yield bytes;
        })(),
      );
    };
    // Two distinct blobs and a second media id of the same bytes for the erased customer; more than one export page is
    // not needed here (paging is the store's listCustomerMedia, covered by the contract suite).
    const a = await upload(ERASED, 'erase-name-marker-a.txt', 'erase content one');
    const b = await upload(ERASED, 'erase-name-marker-b.txt', 'erase content two');
    const aAgain = await upload(ERASED, 'erase-name-marker-c.txt', 'erase content one');
    const kept = await upload(KEPT, 'kept-name-marker.txt', 'kept content');
    const tenantWide = await upload('', 'tenant-wide.txt', 'tenant wide content');
    assert.equal(blobFiles(dir.path), 4);

    const customerRef = await keyring.customerRef('acme', ERASED);
    const subject = { tenantId: 'acme', customer: ERASED, customerRef };
    const participant = createMediaCustomerData({ store });
    const exported: CustomerDataRecord[] = [];
    for await (const item of participant.exportCustomer(subject)) exported.push(item);
    assert.deepEqual(
      exported.map((item) => [item.section, item.record.media_id]).sort(),
      [a, b, aAgain].map((media) => ['media.jsonl', media.mediaId]).sort(),
    );
    assert.ok(filesContaining(dir.path, 'erase-name-marker').length > 0, 'file names are on disk before erasure');

    await keyring.destroyKey({ tenantId: 'acme', customerRef });
    assert.deepEqual(await participant.erase(subject, 'er_1'), { media: 3, blobs: 2 });
    assert.equal(blobFiles(dir.path), 2, "the customer's blob files are unlinked");
    assert.deepEqual(filesContaining(dir.path, 'erase-name-marker'), [], 'no file (database, -wal, -shm) keeps a file name');
    for (const media of [a, b, aAgain]) await assert.rejects(vault.info(acme, media.mediaId), { name: 'NotFoundError' });

    const download = await vault.download(acme, kept.mediaId);
    const chunks: Buffer[] = [];
    for await (const chunk of download.content) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString('utf8'), 'kept content', 'another customer is still served');
    assert.equal((await vault.info(acme, tenantWide.mediaId)).filename, 'tenant-wide.txt');

    assert.deepEqual(await participant.erase(subject, 'er_1'), { media: 0, blobs: 0 }, 'idempotent');
  } finally {
    await store.close();
    dir.remove();
  }
});
