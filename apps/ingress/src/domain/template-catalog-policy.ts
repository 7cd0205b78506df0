import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '@waygate/domain';
import type { SendPolicy } from './send-policy';
import { categoryOfTemplate, type TemplateCatalogStore } from './template-catalog';
import { checkTemplateParameters } from './template-parameters';
import { MAX_VALIDITY_SECONDS, defaultValiditySeconds } from './validity';

/**
 * The template-catalog send policy: a template message must name a template of the sending number's WABA in the
 * tenant's catalog (NOT_FOUND otherwise; UNAVAILABLE while the catalog has not been read from Meta yet), that template must be APPROVED (FAILED_PRECONDITION, violation type
 * TEMPLATE_NOT_APPROVED, otherwise: PAUSED, DISABLED, PENDING, a status Waygate does not know, ...), and its parameters
 * must fit the template (INVALID_ARGUMENT with one violation per problem). It adds the template's category, and its
 * default validity: the template's message_send_ttl_seconds when set, else 10 minutes for AUTHENTICATION templates
 * (other categories keep the 30-day default).
 */
export function createTemplateCatalogPolicy(
  catalog: TemplateCatalogStore,
  /**
   * Whether the tenant's catalog has been read from Meta since start (TemplateSync.hasSynced). Until then an unknown
   * template is UNAVAILABLE (retry shortly), not NOT_FOUND: the catalog cannot tell yet that it does not exist.
   */
  hasSynced: (tenantId: string, wabaId: string) => boolean = () => true,
): SendPolicy {
  return {
    name: 'template-catalog',
    async check({ tenant, request }) {
      const content = request.content;
      if (content.kind !== 'template') return undefined;
      const template = await catalog.find(tenant.id, tenant.whatsapp.wabaId, content.name, content.language);
      if (!template) {
        if (!hasSynced(tenant.id, tenant.whatsapp.wabaId)) {
          throw new UnavailableError(
            `the template catalog of WABA ${tenant.whatsapp.wabaId} has not been read from Meta since ingress started; retry shortly`,
          );
        }
        throw new NotFoundError('template', `${content.name} (${content.language})`);
      }
      if (template.rawStatus !== 'APPROVED') {
        throw new FailedPreconditionError(`template ${content.name} (${content.language}) is ${template.rawStatus || 'not approved'}`, [
          {
            type: 'TEMPLATE_NOT_APPROVED',
            subject: `templates/${content.name}/${content.language}`,
            description: `the template's status is ${template.rawStatus || 'unknown'}; only APPROVED templates can be sent`,
          },
        ]);
      }
      const violations = checkTemplateParameters(template, content.components);
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const category = categoryOfTemplate(template);
      const ttl = Math.min(template.messageSendTtlSeconds, MAX_VALIDITY_SECONDS);
      const validity = ttl > 0 ? ttl : category === 'AUTHENTICATION' ? defaultValiditySeconds('authentication') : undefined;
      return {
        ...(category ? { templateCategory: category } : {}),
        ...(validity !== undefined ? { defaultValiditySeconds: validity } : {}),
      };
    },
  };
}
