import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { InvalidArgumentError, isE164, UnavailableError, type Clock } from '@waygate/domain';
import { CustomerExportUnavailableError, SECTION_NAME, type ExportFragment } from '@waygate/governance';
import { sealText, type Keyring } from '@waygate/keyring';
import { DEFAULT_CHUNK_BYTES, streamFile, type BundleChunk, type FileSummary } from '../export/domain/file-chunker';

/** The layout version of a customer export bundle (in its manifest). */
export const CUSTOMER_BUNDLE_FORMAT_VERSION = 1;
/** The ephemeral keyring purpose the number is sealed under while an export runs. */
export const EXPORT_KEY_PURPOSE = 'export';

/** What the customer export needs. */
export interface CustomerExportDeps {
  readonly keyring: Keyring;
  readonly clock: Clock;
  /** The services asked, in bundle order (each a folder). */
  readonly services: readonly string[];
  /** One service's part, page by page (libs/governance requestCustomerExport over NATS). */
  readonly fetchPart: (request: {
    service: string;
    tenantId: string;
    customerSealed: string;
    customerRef: string;
  }) => AsyncIterable<readonly ExportFragment[]>;
  /** Where a service's sections wait while its later pages arrive (default: the OS temp dir); removed at the end. */
  readonly spoolDir?: string;
  readonly chunkBytes?: number;
}

/** manifest.json of a customer export. */
export interface CustomerBundleManifest {
  readonly format_version: number;
  readonly kind: 'customer-export';
  readonly tenant_id: string;
  readonly customer: string;
  readonly exported_at: string;
  readonly services: readonly string[];
  /** Every file before the manifest: path, SHA-256, bytes, and records (jsonl lines). */
  readonly files: readonly FileSummary[];
}

/**
 * GovernanceService.ExportCustomerData as a bundle: a folder per service with one jsonl file per section the service
 * reported (`ingress/messages.jsonl` ...), then `manifest.json` with every file's SHA-256, size and record count.
 * Each service's pages are spooled to files of a private temporary folder (a service's sections arrive interleaved),
 * then streamed in chunks, so memory holds a page and a chunk whatever the customer's history; the spool is removed
 * when the bundle ends, however it ends. Pulled by the consumer: the next page is fetched only when the transport has
 * taken the previous chunks.
 */
export async function* customerExportBundle(deps: CustomerExportDeps, tenantId: string, customer: string): AsyncGenerator<BundleChunk> {
  if (!isE164(customer))
    throw new InvalidArgumentError([
      { field: 'customer', description: 'must be an E.164 number with a leading +', reason: 'INVALID_FORMAT' },
    ]);
  const chunkBytes = deps.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const exportedAt = deps.clock.now();
  const keyScope = { tenantId, ephemeral: { purpose: EXPORT_KEY_PURPOSE, epoch: randomInt(2 ** 47) } };
  const customerRef = await deps.keyring.customerRef(tenantId, customer);
  const customerSealed = await sealText(deps.keyring, keyScope, customer);
  const spool = await mkdtemp(path.join(deps.spoolDir ?? os.tmpdir(), 'waygate-customer-export-'));
  const summaries: FileSummary[] = [];
  try {
    for (const service of deps.services) {
      const sections = new Map<string, { file: string; handle: FileHandle }>();
      try {
        for await (const fragments of deps.fetchPart({ service, tenantId, customerSealed, customerRef })) {
          for (const { section, text } of fragments) {
            if (!SECTION_NAME.test(section)) throw new UnavailableError(`${service} reported an invalid section name`);
            let spooled = sections.get(section);
            if (!spooled) {
              const file = path.join(spool, `${service}.${sections.size}.jsonl`);
              spooled = { file, handle: await open(file, 'wx', 0o600) };
              sections.set(section, spooled);
            }
            await spooled.handle.write(text);
          }
        }
      } catch (error) {
        if (error instanceof CustomerExportUnavailableError) throw new UnavailableError(error.message);
        throw error;
      } finally {
        await Promise.all([...sections.values()].map(({ handle }) => handle.close()));
      }
      for (const section of [...sections.keys()].sort()) {
        const { file } = sections.get(section) as { file: string };
        const content = async function* (count: () => void) {
          for await (const piece of createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes })) {
            const text = piece as string;
            for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count();
            yield text;
          }
        };
        summaries.push(yield* streamFile(`${service}/${section}`, content, chunkBytes));
        await rm(file, { force: true });
      }
    }
  } finally {
    await rm(spool, { recursive: true, force: true });
    // The sealed number is useless once the export ended.
    await deps.keyring.destroyKey(keyScope).catch(() => undefined);
  }
  const manifest: CustomerBundleManifest = {
    format_version: CUSTOMER_BUNDLE_FORMAT_VERSION,
    kind: 'customer-export',
    tenant_id: tenantId,
    customer,
    exported_at: exportedAt.toISOString(),
    services: deps.services,
    files: summaries,
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  yield* streamFile(
    'manifest.json',
    async function* () {
      yield text;
    },
    chunkBytes,
  );
}
