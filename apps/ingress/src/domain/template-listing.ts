import { InvalidArgumentError, type FieldViolation } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { CatalogTemplate, TemplateCatalogStore, TemplateListCursor } from './template-catalog';

export const DEFAULT_TEMPLATE_PAGE_SIZE = 100;
export const MAX_TEMPLATE_PAGE_SIZE = 500;

/** ListTemplates as the domain sees it; every filter optional. */
export interface TemplateListRequest {
  readonly wabaId: string;
  readonly name: string;
  /** 0 for the default. */
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface TemplateListPage {
  readonly templates: readonly CatalogTemplate[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** The page token is the last template's WABA, name and language; opaque to callers. */
function encodeToken(template: CatalogTemplate): string {
  return Buffer.from(JSON.stringify([template.wabaId, template.name, template.language])).toString('base64url');
}

function decodeToken(token: string): TemplateListCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3 || !value.every((part) => typeof part === 'string')) return undefined;
    const [wabaId, name, language] = value as [string, string, string];
    return { wabaId, name, language };
  } catch {
    return undefined;
  }
}

/**
 * One page of the tenant's template catalog, ordered by WABA, name and language. `waba_id` must be the WABA of the
 * tenant's numbers; a bad page size or token is INVALID_ARGUMENT (every problem at once).
 */
export async function listTemplates(store: TemplateCatalogStore, tenant: Tenant, request: TemplateListRequest): Promise<TemplateListPage> {
  const violations: FieldViolation[] = [];
  if (request.wabaId && request.wabaId !== tenant.whatsapp.wabaId) {
    violations.push({ field: 'waba_id', reason: 'UNKNOWN', description: 'is not the WhatsApp Business Account of your numbers' });
  }
  if (!Number.isInteger(request.pageSize) || request.pageSize < 0 || request.pageSize > MAX_TEMPLATE_PAGE_SIZE) {
    violations.push({
      field: 'page_size',
      reason: 'OUT_OF_RANGE',
      description: `must be 0 (default ${DEFAULT_TEMPLATE_PAGE_SIZE}) to ${MAX_TEMPLATE_PAGE_SIZE}`,
    });
  }
  const after = request.pageToken ? decodeToken(request.pageToken) : undefined;
  if (request.pageToken && !after)
    violations.push({ field: 'page_token', reason: 'INVALID', description: 'is not a token from ListTemplates' });
  if (request.name.length > 512) violations.push({ field: 'name', reason: 'TOO_LONG', description: 'must be at most 512 characters' });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  const pageSize = request.pageSize || DEFAULT_TEMPLATE_PAGE_SIZE;
  // One more than asked tells whether another page follows.
  const found = await store.list(tenant.id, {
    ...(request.wabaId ? { wabaId: request.wabaId } : {}),
    ...(request.name ? { name: request.name } : {}),
    ...(after ? { after } : {}),
    limit: pageSize + 1,
  });
  const templates = found.slice(0, pageSize);
  const last = templates[templates.length - 1];
  return { templates, nextPageToken: found.length > pageSize && last ? encodeToken(last) : '' };
}
