import type { JetStreamClient, KV } from 'nats';

/** The region's JetStream KV bucket of legal-hold summaries: `waygate-legal-holds-<region>`. */
export function legalHoldsBucketName(region: string): string {
  return `waygate-legal-holds-${region}`;
}

/**
 * What media-store (and any other service that disposes of data) needs to know of a tenant's legal holds: whether any
 * is active, and whether one covers the whole tenant. No matter names, no phone numbers: the archive owns the holds.
 */
export interface LegalHoldSummary {
  /** Active holds (customer and tenant-wide). */
  readonly active: number;
  readonly tenantWide: boolean;
  /** When the archive wrote it (ISO 8601). */
  readonly updatedAt: string;
}

/**
 * The archive's mirror of active legal holds into JetStream KV (one key per tenant), written after every hold placed
 * or released and at every retention pass; read by services that dispose of data before each disposal.
 */
export class LegalHoldMirror {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating if missing) the region's bucket. */
  static async open(js: JetStreamClient, region: string, options: { replicas?: number } = {}): Promise<LegalHoldMirror> {
    return new LegalHoldMirror(await js.views.kv(legalHoldsBucketName(region), { history: 1, replicas: options.replicas ?? 1 }));
  }

  async publish(tenantId: string, summary: Omit<LegalHoldSummary, 'updatedAt'> & { updatedAt?: string }): Promise<void> {
    const value: LegalHoldSummary = {
      active: summary.active,
      tenantWide: summary.tenantWide,
      updatedAt: summary.updatedAt ?? new Date().toISOString(),
    };
    await this.kv.put(tenantId, Buffer.from(JSON.stringify(value)));
  }

  /**
   * The tenant's summary; undefined when the archive never wrote one (no hold ever placed). A value that does not
   * parse is reported as held (fail safe: nothing is disposed of on a summary that cannot be read).
   */
  async read(tenantId: string): Promise<LegalHoldSummary | undefined> {
    const entry = await this.kv.get(tenantId);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    try {
      const parsed = JSON.parse(Buffer.from(entry.value).toString('utf8')) as Partial<LegalHoldSummary>;
      if (typeof parsed.active === 'number' && typeof parsed.tenantWide === 'boolean' && typeof parsed.updatedAt === 'string') {
        return { active: parsed.active, tenantWide: parsed.tenantWide, updatedAt: parsed.updatedAt };
      }
    } catch {
      // fall through
    }
    return { active: 1, tenantWide: true, updatedAt: new Date(0).toISOString() };
  }
}
