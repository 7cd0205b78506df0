import type { Statement } from 'better-sqlite3';
import { openSqliteDatabase, type SqliteDatabase, statementCache } from '@waygate/storage';
import type {
  CatalogTemplate,
  TemplateCatalogStore,
  TemplateChange,
  TemplateComponentSpec,
  TemplateDefinition,
  TemplateListCursor,
  TemplateRef,
} from '../domain/template-catalog';

/**
 * Schema versions, applied in order once each. The catalog lives in its own file (`ingress-templates.sqlite` beside
 * `ingress.sqlite`), so its migrations are numbered apart from the message store's.
 */
export const TEMPLATE_CATALOG_MIGRATIONS = [
  `CREATE TABLE templates (
     tenant_id TEXT NOT NULL,
     waba_id TEXT NOT NULL,
     name TEXT NOT NULL,
     language TEXT NOT NULL,
     template_id TEXT NOT NULL,
     raw_status TEXT NOT NULL,
     raw_category TEXT NOT NULL,
     parameter_format TEXT NOT NULL,
     components_json TEXT NOT NULL,
     quality_score TEXT NOT NULL,
     otp_type TEXT NOT NULL,
     code_expiration_minutes INTEGER NOT NULL,
     message_send_ttl_seconds INTEGER NOT NULL,
     synced_at_ms INTEGER NOT NULL,
     status_changed_at_ms INTEGER,
     -- find, list (ordered by WABA, name, language) and replaceWaba's delete.
     PRIMARY KEY (tenant_id, waba_id, name, language)
   );
   -- applyChange: webhooks name the template by Meta's id.
   CREATE INDEX templates_by_template_id ON templates (tenant_id, waba_id, template_id);`,
];

interface TemplateRow {
  tenant_id: string;
  waba_id: string;
  name: string;
  language: string;
  template_id: string;
  raw_status: string;
  raw_category: string;
  parameter_format: string;
  components_json: string;
  quality_score: string;
  otp_type: string;
  code_expiration_minutes: number;
  message_send_ttl_seconds: number;
  synced_at_ms: number;
  status_changed_at_ms: number | null;
}

function toTemplate(row: TemplateRow): CatalogTemplate {
  return {
    tenantId: row.tenant_id,
    wabaId: row.waba_id,
    templateId: row.template_id,
    name: row.name,
    language: row.language,
    rawStatus: row.raw_status,
    rawCategory: row.raw_category,
    parameterFormat: row.parameter_format === 'NAMED' ? 'NAMED' : 'POSITIONAL',
    components: JSON.parse(row.components_json) as TemplateComponentSpec[],
    qualityScore: row.quality_score,
    otpType: row.otp_type,
    codeExpirationMinutes: row.code_expiration_minutes,
    messageSendTtlSeconds: row.message_send_ttl_seconds,
    syncedAt: new Date(row.synced_at_ms),
    ...(row.status_changed_at_ms === null ? {} : { statusChangedAt: new Date(row.status_changed_at_ms) }),
  };
}

/** The embedded TemplateCatalogStore: one SQLite file, WAL mode. */
export class SqliteTemplateCatalogStore implements TemplateCatalogStore {
  private readonly db: SqliteDatabase;
  /** Each SQL text prepared once (issue 15: preparing on every call cost 15 % of ingress CPU). */
  private readonly sql: (text: string) => Statement;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, TEMPLATE_CATALOG_MIGRATIONS);
    this.sql = statementCache(this.db);
  }

  async replaceWaba(
    tenantId: string,
    wabaId: string,
    templates: readonly TemplateDefinition[],
    syncStartedAt: Date,
    syncedAt: Date,
  ): Promise<void> {
    const existing = this.sql('SELECT * FROM templates WHERE tenant_id = ? AND waba_id = ?');
    const remove = this.sql('DELETE FROM templates WHERE tenant_id = ? AND waba_id = ? AND name = ? AND language = ?');
    const upsert = this.sql(
      `INSERT INTO templates (tenant_id, waba_id, name, language, template_id, raw_status, raw_category, parameter_format, components_json,
         quality_score, otp_type, code_expiration_minutes, message_send_ttl_seconds, synced_at_ms, status_changed_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, waba_id, name, language) DO UPDATE SET
         template_id = excluded.template_id, raw_status = excluded.raw_status, raw_category = excluded.raw_category,
         parameter_format = excluded.parameter_format, components_json = excluded.components_json,
         quality_score = excluded.quality_score, otp_type = excluded.otp_type,
         code_expiration_minutes = excluded.code_expiration_minutes, message_send_ttl_seconds = excluded.message_send_ttl_seconds,
         synced_at_ms = excluded.synced_at_ms, status_changed_at_ms = excluded.status_changed_at_ms`,
    );
    const replace = this.db.transaction(() => {
      const before = new Map(
        (existing.all(tenantId, wabaId) as TemplateRow[]).map((row) => [JSON.stringify([row.name, row.language]), row] as const),
      );
      for (const template of templates) {
        const key = JSON.stringify([template.name, template.language]);
        const previous = before.get(key);
        before.delete(key);
        // A webhook's status newer than this sync's start wins over what the sync read.
        const keepStatus = previous?.status_changed_at_ms != null && previous.status_changed_at_ms > syncStartedAt.getTime();
        upsert.run(
          tenantId,
          wabaId,
          template.name,
          template.language,
          template.templateId,
          keepStatus ? previous.raw_status : template.rawStatus,
          template.rawCategory,
          template.parameterFormat,
          JSON.stringify(template.components),
          template.qualityScore,
          template.otpType,
          template.codeExpirationMinutes,
          template.messageSendTtlSeconds,
          syncedAt.getTime(),
          previous?.status_changed_at_ms ?? null,
        );
      }
      for (const gone of before.values()) remove.run(tenantId, wabaId, gone.name, gone.language);
    });
    replace.immediate();
  }

  async applyChange(ref: TemplateRef, change: TemplateChange, at: Date): Promise<boolean> {
    const sets: string[] = [];
    const values: (string | number)[] = [];
    const set = (column: string, value: string | number) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (change.rawStatus !== undefined) {
      set('raw_status', change.rawStatus);
      set('status_changed_at_ms', at.getTime());
    }
    if (change.rawCategory !== undefined) set('raw_category', change.rawCategory);
    if (change.qualityScore !== undefined) set('quality_score', change.qualityScore);
    if (sets.length === 0) return (await this.findByRef(ref)) !== undefined;
    const byId = this.sql(`UPDATE templates SET ${sets.join(', ')} WHERE tenant_id = ? AND waba_id = ? AND template_id = ?`).run(
      ...values,
      ref.tenantId,
      ref.wabaId,
      ref.templateId,
    );
    if (byId.changes > 0) return true;
    const byName = this.sql(
      `UPDATE templates SET ${sets.join(', ')} WHERE tenant_id = ? AND waba_id = ? AND name = ? AND language = ?`,
    ).run(...values, ref.tenantId, ref.wabaId, ref.name, ref.language);
    return byName.changes > 0;
  }

  private async findByRef(ref: TemplateRef): Promise<CatalogTemplate | undefined> {
    const row = this.sql(
      'SELECT * FROM templates WHERE tenant_id = ? AND waba_id = ? AND (template_id = ? OR (name = ? AND language = ?))',
    ).get(ref.tenantId, ref.wabaId, ref.templateId, ref.name, ref.language) as TemplateRow | undefined;
    return row ? toTemplate(row) : undefined;
  }

  async find(tenantId: string, wabaId: string, name: string, language: string): Promise<CatalogTemplate | undefined> {
    const row = this.sql('SELECT * FROM templates WHERE tenant_id = ? AND waba_id = ? AND name = ? AND language = ?').get(
      tenantId,
      wabaId,
      name,
      language,
    ) as TemplateRow | undefined;
    return row ? toTemplate(row) : undefined;
  }

  async list(
    tenantId: string,
    filter: { readonly wabaId?: string; readonly name?: string; readonly after?: TemplateListCursor; readonly limit: number },
  ): Promise<CatalogTemplate[]> {
    const where = ['tenant_id = ?'];
    const values: (string | number)[] = [tenantId];
    if (filter.wabaId !== undefined) {
      where.push('waba_id = ?');
      values.push(filter.wabaId);
    }
    if (filter.name !== undefined) {
      where.push('name = ?');
      values.push(filter.name);
    }
    if (filter.after !== undefined) {
      where.push('(waba_id, name, language) > (?, ?, ?)');
      values.push(filter.after.wabaId, filter.after.name, filter.after.language);
    }
    const rows = this.sql(`SELECT * FROM templates WHERE ${where.join(' AND ')} ORDER BY waba_id, name, language LIMIT ?`).all(
      ...values,
      filter.limit,
    ) as TemplateRow[];
    return rows.map(toTemplate);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
