import type { Collection } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { CustomerKey, CustomerView, CustomerWindow, InboundMessageEntry } from '../domain/customer-view';
import type { InboundMessageRef } from '../domain/inbound-message-index';

interface WindowDocument {
  _id: string; // `${tenantId}/${phoneNumberId}/${customerKey}`
  tenantId: string;
  phoneNumberId: string;
  customerKey: string;
  lastInboundAt: Date;
  closesAt: Date;
}

interface InboundDocument {
  _id: string; // `${tenantId}/${waMessageId}`
  tenantId: string;
  waMessageId: string;
  phoneNumberId: string;
  customer: string;
  customerKey: string;
  occurredAt: Date;
}

interface WaIdDocument {
  _id: string; // `${tenantId}/${recipient}`
  tenantId: string;
  recipient: string;
  waId: string;
  learnedAt: Date;
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `ingress-customers`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/**
 * The production CustomerView: one document per window, per inbound message and per learned wa_id, each keyed by
 * `_id` (every query is by its key, so no other index is needed).
 */
export class MongoCustomerView implements CustomerView {
  private readonly windows: Collection<WindowDocument>;
  private readonly inbound: Collection<InboundDocument>;
  private readonly waIds: Collection<WaIdDocument>;

  private constructor(mongo: MongoDatabase) {
    this.windows = mongo.db.collection<WindowDocument>('customer_windows');
    this.inbound = mongo.db.collection<InboundDocument>('inbound_messages');
    this.waIds = mongo.db.collection<WaIdDocument>('customer_wa_ids');
  }

  static async open(mongo: MongoDatabase): Promise<MongoCustomerView> {
    await applyMongoMigrations(mongo.db, 'ingress-customers', MONGO_MIGRATIONS);
    const view = new MongoCustomerView(mongo);
    // Erasure and export find a customer's rows by number or customer key (everything else is by _id).
    await view.inbound.createIndexes([
      { key: { tenantId: 1, customer: 1 }, name: 'by_customer' },
      { key: { tenantId: 1, customerKey: 1 }, name: 'by_customer_key' },
    ]);
    await view.windows.createIndexes([{ key: { tenantId: 1, customerKey: 1 }, name: 'by_customer_key' }]);
    return view;
  }

  async recordInbound(entry: InboundMessageEntry): Promise<void> {
    await this.inbound.updateOne(
      { _id: `${entry.tenantId}/${entry.waMessageId}` },
      {
        $setOnInsert: {
          tenantId: entry.tenantId,
          waMessageId: entry.waMessageId,
          phoneNumberId: entry.phoneNumberId,
          customer: entry.customer,
          customerKey: entry.customerKey,
          occurredAt: entry.occurredAt,
        },
      },
      { upsert: true },
    );
    if (!entry.windowClosesAt) return;
    const _id = `${entry.tenantId}/${entry.phoneNumberId}/${entry.customerKey}`;
    // $max never shortens a window: an older message arriving late changes nothing. Two upserts racing on a new
    // window: the loser's duplicate-key error is retried once as an update.
    const update = {
      $setOnInsert: { tenantId: entry.tenantId, phoneNumberId: entry.phoneNumberId, customerKey: entry.customerKey },
      $max: { lastInboundAt: entry.occurredAt, closesAt: entry.windowClosesAt },
    };
    try {
      await this.windows.updateOne({ _id }, update, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await this.windows.updateOne({ _id }, update, { upsert: true });
    }
  }

  async findWindow(tenantId: string, phoneNumberId: string, customerKey: CustomerKey): Promise<CustomerWindow | undefined> {
    const doc = await this.windows.findOne({ _id: `${tenantId}/${phoneNumberId}/${customerKey}` });
    return doc
      ? {
          tenantId: doc.tenantId,
          phoneNumberId: doc.phoneNumberId,
          customerKey: doc.customerKey,
          lastInboundAt: doc.lastInboundAt,
          closesAt: doc.closesAt,
        }
      : undefined;
  }

  async findInbound(tenantId: string, waMessageId: string): Promise<InboundMessageRef | undefined> {
    const doc = await this.inbound.findOne({ _id: `${tenantId}/${waMessageId}` });
    return doc
      ? {
          tenantId: doc.tenantId,
          waMessageId: doc.waMessageId,
          customer: doc.customer,
          phoneNumberId: doc.phoneNumberId,
          occurredAt: doc.occurredAt,
        }
      : undefined;
  }

  async recordWaId(tenantId: string, to: string, waId: string, learnedAt: Date): Promise<void> {
    const _id = `${tenantId}/${to}`;
    // The latest answer wins; an older one arriving late matches nothing and its upsert collides with the newer one.
    try {
      await this.waIds.updateOne(
        { _id, $or: [{ learnedAt: { $lte: learnedAt } }, { learnedAt: { $exists: false } }] },
        { $set: { tenantId, recipient: to, waId, learnedAt } },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async findWaId(tenantId: string, to: string): Promise<string | undefined> {
    return (await this.waIds.findOne({ _id: `${tenantId}/${to}` }))?.waId;
  }

  async eraseCustomer(tenantId: string, customer: string, customerKeys: readonly CustomerKey[]): Promise<number> {
    const keys = [...customerKeys];
    const [inbound, windows, waIds] = await Promise.all([
      this.inbound.deleteMany({ tenantId, $or: [{ customer }, { customerKey: { $in: keys } }] }),
      this.windows.deleteMany({ tenantId, customerKey: { $in: keys } }),
      this.waIds.deleteMany({ _id: `${tenantId}/${customer}` }),
    ]);
    return inbound.deletedCount + windows.deletedCount + waIds.deletedCount;
  }

  async customerWindows(tenantId: string, customerKeys: readonly CustomerKey[]): Promise<CustomerWindow[]> {
    const docs = await this.windows
      .find({ tenantId, customerKey: { $in: [...customerKeys] } })
      .sort({ phoneNumberId: 1, customerKey: 1 })
      .toArray();
    return docs.map((doc) => ({
      tenantId: doc.tenantId,
      phoneNumberId: doc.phoneNumberId,
      customerKey: doc.customerKey,
      lastInboundAt: doc.lastInboundAt,
      closesAt: doc.closesAt,
    }));
  }

  async listInboundOf(
    tenantId: string,
    customer: string,
    customerKeys: readonly CustomerKey[],
    page: { readonly afterWaMessageId?: string; readonly limit: number },
  ): Promise<InboundMessageRef[]> {
    const docs = await this.inbound
      .find({
        tenantId,
        waMessageId: { $gt: page.afterWaMessageId ?? '' },
        $or: [{ customer }, { customerKey: { $in: [...customerKeys] } }],
      })
      .sort({ waMessageId: 1 })
      .limit(page.limit)
      .toArray();
    return docs.map((doc) => ({
      tenantId: doc.tenantId,
      waMessageId: doc.waMessageId,
      customer: doc.customer,
      phoneNumberId: doc.phoneNumberId,
      occurredAt: doc.occurredAt,
    }));
  }

  async flushDeleted(): Promise<void> {
    // MongoDB deletes in place; nothing to flush.
  }

  async close(): Promise<void> {}
}
