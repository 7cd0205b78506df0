import { createMessageTemplateReader, type MessageTemplate, type MessageTemplateReaderOptions } from '@waygate/whatsapp-cloud-api';
import type { TemplateDefinition } from '../domain/template-catalog';
import type { TemplateSource } from '../domain/template-sync';

/**
 * Most pages read per WABA (100 templates each): Meta allows a WABA at most a few thousand templates, so more pages
 * mean a cursor that never ends, and the sync fails instead of looping.
 */
export const MAX_TEMPLATE_PAGES = 100;

function toDefinition(template: MessageTemplate): TemplateDefinition {
  return {
    templateId: template.id,
    name: template.name,
    language: template.language,
    rawStatus: template.status,
    rawCategory: template.category,
    parameterFormat: template.parameterFormat,
    components: template.components.map((component) => ({ ...component, parameterNames: [...component.parameterNames] })),
    qualityScore: template.qualityScore,
    otpType: template.otpType,
    codeExpirationMinutes: template.codeExpirationMinutes,
    messageSendTtlSeconds: template.messageSendTtlSeconds,
  };
}

/** Reads a WABA's templates from Meta's template management API, following the cursors through every page. */
export function createCloudApiTemplateSource(options: MessageTemplateReaderOptions & { readonly pageLimit?: number }): TemplateSource {
  const reader = createMessageTemplateReader(options);
  return {
    async listTemplates(wabaId, accessToken, signal) {
      const templates: TemplateDefinition[] = [];
      let after: string | undefined;
      for (let page = 0; page < MAX_TEMPLATE_PAGES; page++) {
        const read = await reader.listPage({
          wabaId,
          accessToken,
          ...(after ? { after } : {}),
          ...(options.pageLimit ? { limit: options.pageLimit } : {}),
          ...(signal ? { signal } : {}),
        });
        templates.push(...read.templates.map(toDefinition));
        if (!read.after) return templates;
        after = read.after;
      }
      throw new Error(`WABA ${wabaId} lists more than ${MAX_TEMPLATE_PAGES} pages of templates`);
    },
  };
}
