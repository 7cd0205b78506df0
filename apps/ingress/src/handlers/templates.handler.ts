import { unaryHandler } from '@waygate/grpc';
import {
  TemplateCategory,
  TemplateComponentType,
  TemplateParameterFormat,
  TemplateStatus,
  type ListTemplatesRequest,
  type ListTemplatesResponse,
  type MessagingServiceServer,
  type Template,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import {
  categoryOfTemplate,
  statusOfTemplate,
  type CatalogTemplate,
  type KnownTemplateStatus,
  type TemplateComponentSpec,
} from '../domain/template-catalog';
import type { TemplateCatalogStore } from '../domain/template-catalog';
import { listTemplates } from '../domain/template-listing';

const STATUSES: Readonly<Record<KnownTemplateStatus, TemplateStatus>> = {
  APPROVED: TemplateStatus.TEMPLATE_STATUS_APPROVED,
  PENDING: TemplateStatus.TEMPLATE_STATUS_PENDING,
  REJECTED: TemplateStatus.TEMPLATE_STATUS_REJECTED,
  PAUSED: TemplateStatus.TEMPLATE_STATUS_PAUSED,
  DISABLED: TemplateStatus.TEMPLATE_STATUS_DISABLED,
  ARCHIVED: TemplateStatus.TEMPLATE_STATUS_ARCHIVED,
  IN_APPEAL: TemplateStatus.TEMPLATE_STATUS_IN_APPEAL,
  PENDING_DELETION: TemplateStatus.TEMPLATE_STATUS_PENDING_DELETION,
  DELETED: TemplateStatus.TEMPLATE_STATUS_DELETED,
  LIMIT_EXCEEDED: TemplateStatus.TEMPLATE_STATUS_LIMIT_EXCEEDED,
};

const CATEGORIES = {
  MARKETING: TemplateCategory.TEMPLATE_CATEGORY_MARKETING,
  UTILITY: TemplateCategory.TEMPLATE_CATEGORY_UTILITY,
  AUTHENTICATION: TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION,
} as const;

const COMPONENT_TYPES: Readonly<Record<TemplateComponentSpec['type'], TemplateComponentType>> = {
  HEADER: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_HEADER,
  BODY: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_BODY,
  FOOTER: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_FOOTER,
  BUTTON: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_BUTTON,
};

/** A catalog template as ListTemplates returns it; unknown statuses and categories are UNSPECIFIED with the raw string. */
export function toProtoTemplate(template: CatalogTemplate): Template {
  const status = statusOfTemplate(template);
  const category = categoryOfTemplate(template);
  return {
    wabaId: template.wabaId,
    templateId: template.templateId,
    name: template.name,
    language: template.language,
    category: category ? CATEGORIES[category] : TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
    status: status ? STATUSES[status] : TemplateStatus.TEMPLATE_STATUS_UNSPECIFIED,
    rawStatus: template.rawStatus,
    parameterFormat:
      template.parameterFormat === 'NAMED'
        ? TemplateParameterFormat.TEMPLATE_PARAMETER_FORMAT_NAMED
        : TemplateParameterFormat.TEMPLATE_PARAMETER_FORMAT_POSITIONAL,
    components: template.components.map((component) => ({
      type: COMPONENT_TYPES[component.type],
      headerFormat: component.headerFormat,
      parameterNames: [...component.parameterNames],
      parameterCount: component.parameterCount,
      buttonSubType: component.buttonSubType,
      index: component.index,
      buttonType: component.buttonType,
    })),
    authentication:
      category === 'AUTHENTICATION'
        ? {
            otpType: template.otpType,
            codeExpirationMinutes: template.codeExpirationMinutes,
            messageSendTtlSeconds: template.messageSendTtlSeconds,
          }
        : undefined,
    syncedAt: template.syncedAt,
    rawCategory: template.rawCategory,
    qualityScore: template.qualityScore,
  };
}

/** MessagingService.ListTemplates: the tenant's catalog, as last synced from Meta, one page at a time. */
export function createListTemplatesHandler(
  catalog: TemplateCatalogStore,
  tenants: TenantDirectory,
  logger: Logger,
): MessagingServiceServer['listTemplates'] {
  return unaryHandler<ListTemplatesRequest, ListTemplatesResponse>(tenants, logger, async (request, tenant) => {
    const page = await listTemplates(catalog, tenant, {
      wabaId: request.wabaId,
      name: request.name,
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return { templates: page.templates.map(toProtoTemplate), nextPageToken: page.nextPageToken };
  });
}
