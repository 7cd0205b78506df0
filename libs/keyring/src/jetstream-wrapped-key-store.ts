import type { JetStreamClient, JetStreamManager, KV } from 'nats';
import type { WrappedKeyEntry, WrappedKeyStore } from './wrapped-key-store';

/** The region's keyring bucket name. */
export function keyringBucketName(region: string): string {
  return `waygate-keyring-${region}`;
}

/** JetStream reports a failed compare-and-set (create of an existing key, update at a stale revision) this way. */
function isRevisionConflict(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /wrong last sequence|key exists/i.test(message);
}

/**
 * The wrapped-key store on a JetStream key-value bucket per region (`waygate-keyring-<region>`): file storage, one
 * revision of history (an old wrapping is not kept around after rotation or destruction), reachable by every service
 * of the region over the NATS connection it already has.
 */
export class JetStreamWrappedKeyStore implements WrappedKeyStore {
  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  /** Opens (creating if needed) the region's bucket. */
  static async open(js: JetStreamClient, region: string, options: { replicas?: number } = {}): Promise<JetStreamWrappedKeyStore> {
    const bucket = keyringBucketName(region);
    const kv = await js.views.kv(bucket, { history: 1, replicas: options.replicas ?? 1 });
    // A KV bucket is the stream `KV_<bucket>`; its messages are erased through the stream API (see destroy).
    return new JetStreamWrappedKeyStore(kv, await js.jetstreamManager(), `KV_${bucket}`);
  }

  async get(name: string): Promise<WrappedKeyEntry | undefined> {
    const entry = await this.kv.get(name);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return { value: Buffer.from(entry.value), revision: entry.revision };
  }

  async create(name: string, value: Buffer): Promise<boolean> {
    try {
      await this.kv.create(name, value);
      return true;
    } catch (error) {
      if (isRevisionConflict(error)) return false;
      throw error;
    }
  }

  async replace(name: string, value: Buffer, revision: number): Promise<boolean> {
    try {
      await this.kv.update(name, value, revision);
      return true;
    } catch (error) {
      if (isRevisionConflict(error)) return false;
      throw error;
    }
  }

  async destroy(name: string): Promise<boolean> {
    const entry = await this.kv.get(name);
    const existed = entry !== null && entry.operation === 'PUT' && entry.value.length > 0;
    // The wrapped key's bytes first: a purge (or a plain message delete) only marks the message deleted, and the
    // bytes stay in the stream's block file until it is compacted. A secure erase overwrites them in place.
    if (entry) await this.erase(entry.revision);
    // purge, not delete: delete keeps the last value under a tombstone; purge removes it from the stream.
    await this.kv.purge(name);
    return existed;
  }

  private async erase(sequence: number): Promise<void> {
    try {
      await this.jsm.streams.deleteMessage(this.stream, sequence, true);
    } catch (error) {
      // Gone already (another replica destroyed it at the same time): nothing left to erase.
      if (!(error instanceof Error && /no message found|not found/i.test(error.message))) throw error;
    }
  }

  async names(filter?: string): Promise<string[]> {
    const names: string[] = [];
    for await (const name of await this.kv.keys(filter)) names.push(name);
    return names;
  }
}
