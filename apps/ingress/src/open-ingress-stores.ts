import path from 'node:path';
import type { CustomerSealer } from '@waygate/keyring';
import { connectMongo } from '@waygate/storage';
import { MongoCustomerView } from './adapters/mongo-customer-view';
import { MongoMessageStore } from './adapters/mongo-message-store';
import { MongoOptOutList } from './adapters/mongo-opt-out-list';
import { MongoSendQuotaStore } from './adapters/mongo-send-quota-store';
import { MongoTemplateCatalogStore } from './adapters/mongo-template-catalog-store';
import { MongoVerificationStore } from './adapters/mongo-verification-store';
import { SqliteCustomerView } from './adapters/sqlite-customer-view';
import { SqliteMessageStore } from './adapters/sqlite-message-store';
import { SqliteOptOutList } from './adapters/sqlite-opt-out-list';
import { SqliteSendQuotaStore } from './adapters/sqlite-send-quota-store';
import { SqliteTemplateCatalogStore } from './adapters/sqlite-template-catalog-store';
import { SqliteVerificationStore } from './adapters/sqlite-verification-store';
import type { IngressConfig } from './config';
import type { CustomerView } from './domain/customer-view';
import type { MessageStore } from './domain/message-store';
import type { OptOutList } from './domain/opt-out-list';
import type { SendQuotaStore } from './domain/send-quota';
import type { TemplateCatalogStore } from './domain/template-catalog';
import type { VerificationStore } from './domain/verification-store';

/** Every store ingress keeps, on one storage backend, and the one place they are closed. */
export interface IngressStores {
  /** Messages, their timelines and the outbox. */
  readonly messages: MessageStore;
  /** The customer view: windows, the inbound message index, the to -> wa_id mapping. */
  readonly customers: CustomerView;
  /** The marketing opt-out list. */
  readonly optOuts: OptOutList;
  /** The tenants' send rates and daily send counts. */
  readonly quotas: SendQuotaStore;
  /** The template catalog synced from Meta. */
  readonly templates: TemplateCatalogStore;
  /** Verifications (one-time codes, stored as keyed hashes). */
  readonly verifications: VerificationStore;
  /** Closes every store; called once, after the consumers stopped and NATS drained. */
  close(): Promise<void>;
}

/**
 * Opens ingress's stores. SQLite: `ingress.sqlite` (the message store) with each other store in its own file (and
 * schema versions) beside it. Message content is sealed at rest under each customer's data key (`sealer`). MongoDB: one connection, one collection set per store, closed with the connection.
 */
export async function openIngressStores(config: IngressConfig, sealer: CustomerSealer): Promise<IngressStores> {
  if (config.storage.kind === 'sqlite') {
    const dir = path.dirname(config.storage.file);
    const messages = new SqliteMessageStore(config.storage.file, sealer);
    const customers = new SqliteCustomerView(path.join(dir, 'ingress-customers.sqlite'));
    const optOuts = new SqliteOptOutList(path.join(dir, 'ingress-opt-outs.sqlite'));
    const quotas = new SqliteSendQuotaStore(path.join(dir, 'ingress-quotas.sqlite'));
    const templates = new SqliteTemplateCatalogStore(path.join(dir, 'ingress-templates.sqlite'));
    const verifications = new SqliteVerificationStore(path.join(dir, 'ingress-verifications.sqlite'));
    const close = async () => {
      await templates.close();
      await verifications.close();
      await Promise.all([customers.close(), optOuts.close(), quotas.close()]);
      await messages.close();
    };
    return { messages, customers, optOuts, quotas, templates, verifications, close };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  const messages = await MongoMessageStore.open(mongo, sealer);
  const customers = await MongoCustomerView.open(mongo);
  const optOuts = await MongoOptOutList.open(mongo);
  const quotas = await MongoSendQuotaStore.open(mongo);
  const templates = await MongoTemplateCatalogStore.open(mongo);
  const verifications = await MongoVerificationStore.open(mongo);
  // The stores share the connection: closing it closes them all.
  const close = async () => {
    await templates.close();
    await mongo.client.close();
  };
  return { messages, customers, optOuts, quotas, templates, verifications, close };
}
