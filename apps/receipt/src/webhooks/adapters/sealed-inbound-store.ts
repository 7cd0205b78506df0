import type { CustomerSealer } from '@waygate/keyring';
import {
  ERASED_CONTENT,
  type InboundMessageRecord,
  type InboundStore,
  type ServiceWindowKey,
  type ServiceWindowState,
} from '../domain/inbound-store';
import type { InboundContent } from '../domain/webhook-payload';

/** How sealed content is stored: a content shape every adapter already stores (JSON), holding the sealed text. */
const SEALED_RAW_TYPE = 'sealed';

/**
 * Inbound messages at rest under the customer's data key (issue 14): wraps an InboundStore (SQLite, MongoDB) and seals
 * a message's content and the sender's profile name before the store writes them, opening them on every read. Once
 * the customer's key is destroyed (erasure), content reads as {@link ERASED_CONTENT} and the profile name as absent.
 * Numbers, ids, types and times stay readable to the store: they are queried on.
 */
export class SealedInboundStore implements InboundStore {
  constructor(
    private readonly inner: InboundStore,
    private readonly cipher: CustomerSealer,
  ) {}

  async recordInboundMessage(record: InboundMessageRecord): Promise<InboundMessageRecord> {
    const { tenantId, customer } = record;
    const sealed = await this.cipher.seal(tenantId, customer, JSON.stringify(record.content));
    const { profileName, ...rest } = record;
    const stored = await this.inner.recordInboundMessage({
      ...rest,
      content: { kind: 'unknown', rawType: SEALED_RAW_TYPE, raw: { sealed } },
      ...(profileName !== undefined ? { profileName: await this.cipher.seal(tenantId, customer, profileName) } : {}),
    });
    return this.open(stored);
  }

  async findInboundMessage(tenantId: string, waMessageId: string): Promise<InboundMessageRecord | undefined> {
    const stored = await this.inner.findInboundMessage(tenantId, waMessageId);
    return stored && this.open(stored);
  }

  extendServiceWindow(key: ServiceWindowKey, inboundAt: Date): Promise<ServiceWindowState> {
    return this.inner.extendServiceWindow(key, inboundAt);
  }

  findServiceWindow(key: ServiceWindowKey): Promise<ServiceWindowState | undefined> {
    return this.inner.findServiceWindow(key);
  }

  async customerMessages(
    tenantId: string,
    customer: string,
    page: { readonly after?: { readonly occurredAt: Date; readonly waMessageId: string }; readonly limit: number },
  ): Promise<InboundMessageRecord[]> {
    return Promise.all((await this.inner.customerMessages(tenantId, customer, page)).map((record) => this.open(record)));
  }

  eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ messages: number; windows: number }> {
    return this.inner.eraseCustomer(tenantId, customer, customerRef);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async open(record: InboundMessageRecord): Promise<InboundMessageRecord> {
    const { content, profileName, ...rest } = record;
    const sealed = content.kind === 'unknown' && content.rawType === SEALED_RAW_TYPE ? content.raw['sealed'] : undefined;
    let opened = content;
    if (typeof sealed === 'string') {
      const json = await this.cipher.open(record.tenantId, sealed);
      opened = json === undefined ? ERASED_CONTENT : (JSON.parse(json) as InboundContent);
    }
    const name = profileName === undefined ? undefined : await this.cipher.open(record.tenantId, profileName);
    return { ...rest, content: opened, ...(name !== undefined ? { profileName: name } : {}) };
  }
}
