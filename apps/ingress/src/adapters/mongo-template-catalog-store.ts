import type { AnyBulkWriteOperation, Collection, Filter } from 'mongodb';
import type { MongoDatabase } from '@waygate/storage';
import type {
  CatalogTemplate,
  TemplateCatalogStore,
  TemplateChange,
  TemplateComponentSpec,
  TemplateDefinition,
  TemplateListCursor,
  TemplateRef,
} from '../domain/template-catalog';

interface TemplateDocument {
  _id: string; // JSON of [tenantId, wabaId, name, language]
  tenantId: string;
  wabaId: string;
  name: string;
  language: string;
  templateId: string;
  rawStatus: string;
  rawCategory: string;
  parameterFormat: string;
  components: TemplateComponentSpec[];
  qualityScore: string;
  otpType: string;
  codeExpirationMinutes: number;
  messageSendTtlSeconds: number;
  syncedAt: Date;
  statusChangedAt?: Date;
}

function documentId(tenantId: string, wabaId: string, name: string, language: string): string {
  return JSON.stringify([tenantId, wabaId, name, language]);
}

function toTemplate(doc: TemplateDocument): CatalogTemplate {
  return {
    tenantId: doc.tenantId,
    wabaId: doc.wabaId,
    templateId: doc.templateId,
    name: doc.name,
    language: doc.language,
    rawStatus: doc.rawStatus,
    rawCategory: doc.rawCategory,
    parameterFormat: doc.parameterFormat === 'NAMED' ? 'NAMED' : 'POSITIONAL',
    components: doc.components,
    qualityScore: doc.qualityScore,
    otpType: doc.otpType,
    codeExpirationMinutes: doc.codeExpirationMinutes,
    messageSendTtlSeconds: doc.messageSendTtlSeconds,
    syncedAt: doc.syncedAt,
    ...(doc.statusChangedAt ? { statusChangedAt: doc.statusChangedAt } : {}),
  };
}

/** The production TemplateCatalogStore: one document per template (name and language) of a tenant's WABA. */
export class MongoTemplateCatalogStore implements TemplateCatalogStore {
  private readonly templates: Collection<TemplateDocument>;

  private constructor(mongo: MongoDatabase) {
    this.templates = mongo.db.collection<TemplateDocument>('templates');
  }

  static async open(mongo: MongoDatabase): Promise<MongoTemplateCatalogStore> {
    const store = new MongoTemplateCatalogStore(mongo);
    await store.templates.createIndexes([
      // find, list (ordered by WABA, name, language) and replaceWaba's scan of a WABA.
      { key: { tenantId: 1, wabaId: 1, name: 1, language: 1 }, name: 'by_waba_name_language', unique: true },
      // applyChange: webhooks name the template by Meta's id.
      { key: { tenantId: 1, wabaId: 1, templateId: 1 }, name: 'by_template_id' },
    ]);
    return store;
  }

  async replaceWaba(
    tenantId: string,
    wabaId: string,
    templates: readonly TemplateDefinition[],
    syncStartedAt: Date,
    syncedAt: Date,
  ): Promise<void> {
    const before = new Map((await this.templates.find({ tenantId, wabaId }).toArray()).map((doc) => [doc._id, doc] as const));
    const operations: AnyBulkWriteOperation<TemplateDocument>[] = [];
    for (const template of templates) {
      const id = documentId(tenantId, wabaId, template.name, template.language);
      const previous = before.get(id);
      before.delete(id);
      // A webhook's status newer than this sync's start wins over what the sync read.
      const keepStatus = previous?.statusChangedAt !== undefined && previous.statusChangedAt.getTime() > syncStartedAt.getTime();
      const doc: TemplateDocument = {
        _id: id,
        tenantId,
        wabaId,
        name: template.name,
        language: template.language,
        templateId: template.templateId,
        rawStatus: keepStatus ? previous.rawStatus : template.rawStatus,
        rawCategory: template.rawCategory,
        parameterFormat: template.parameterFormat,
        components: [...template.components],
        qualityScore: template.qualityScore,
        otpType: template.otpType,
        codeExpirationMinutes: template.codeExpirationMinutes,
        messageSendTtlSeconds: template.messageSendTtlSeconds,
        syncedAt,
        ...(previous?.statusChangedAt ? { statusChangedAt: previous.statusChangedAt } : {}),
      };
      operations.push({ replaceOne: { filter: { _id: id, tenantId }, replacement: doc, upsert: true } });
    }
    for (const gone of before.values()) operations.push({ deleteOne: { filter: { _id: gone._id, tenantId } } });
    if (operations.length > 0) await this.templates.bulkWrite(operations, { ordered: true });
  }

  async applyChange(ref: TemplateRef, change: TemplateChange, at: Date): Promise<boolean> {
    const set: Partial<TemplateDocument> = {
      ...(change.rawStatus !== undefined ? { rawStatus: change.rawStatus, statusChangedAt: at } : {}),
      ...(change.rawCategory !== undefined ? { rawCategory: change.rawCategory } : {}),
      ...(change.qualityScore !== undefined ? { qualityScore: change.qualityScore } : {}),
    };
    const byId: Filter<TemplateDocument> = { tenantId: ref.tenantId, wabaId: ref.wabaId, templateId: ref.templateId };
    const byName: Filter<TemplateDocument> = { tenantId: ref.tenantId, wabaId: ref.wabaId, name: ref.name, language: ref.language };
    if (Object.keys(set).length === 0) {
      return (await this.templates.findOne({ $or: [byId, byName] })) !== null;
    }
    if ((await this.templates.updateMany(byId, { $set: set })).matchedCount > 0) return true;
    return (await this.templates.updateOne(byName, { $set: set })).matchedCount > 0;
  }

  async find(tenantId: string, wabaId: string, name: string, language: string): Promise<CatalogTemplate | undefined> {
    const doc = await this.templates.findOne({ _id: documentId(tenantId, wabaId, name, language), tenantId });
    return doc ? toTemplate(doc) : undefined;
  }

  async list(
    tenantId: string,
    filter: { readonly wabaId?: string; readonly name?: string; readonly after?: TemplateListCursor; readonly limit: number },
  ): Promise<CatalogTemplate[]> {
    const query: Filter<TemplateDocument> = {
      tenantId,
      ...(filter.wabaId !== undefined ? { wabaId: filter.wabaId } : {}),
      ...(filter.name !== undefined ? { name: filter.name } : {}),
    };
    const after = filter.after;
    if (after !== undefined) {
      query.$or = [
        { wabaId: { $gt: after.wabaId } },
        { wabaId: after.wabaId, name: { $gt: after.name } },
        { wabaId: after.wabaId, name: after.name, language: { $gt: after.language } },
      ];
    }
    const docs = await this.templates.find(query).sort({ wabaId: 1, name: 1, language: 1 }).limit(filter.limit).toArray();
    return docs.map(toTemplate);
  }

  async close(): Promise<void> {
    // The connection is the caller's (server.ts closes it).
  }
}
