import type { TemplateCategory } from '@waygate/domain';

/** Meta's template statuses Waygate knows; anything else is kept as its raw string (see CatalogTemplate.rawStatus). */
export const KNOWN_TEMPLATE_STATUSES = [
  'APPROVED',
  'PENDING',
  'REJECTED',
  'PAUSED',
  'DISABLED',
  'ARCHIVED',
  'IN_APPEAL',
  'PENDING_DELETION',
  'DELETED',
  'LIMIT_EXCEEDED',
] as const;
export type KnownTemplateStatus = (typeof KNOWN_TEMPLATE_STATUSES)[number];

/** What one component of a template expects in a send (one spec per button). */
export interface TemplateComponentSpec {
  readonly type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTON';
  /** Headers: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION; empty otherwise. */
  readonly headerFormat: string;
  /** NAMED templates: the parameter names in order of appearance. */
  readonly parameterNames: readonly string[];
  readonly parameterCount: number;
  /** Buttons: Meta's type as in the template (QUICK_REPLY, URL, OTP, COPY_CODE, PHONE_NUMBER, FLOW, ...). */
  readonly buttonType: string;
  /** Buttons: the send-side sub_type (OTP buttons are sent as `url`). */
  readonly buttonSubType: string;
  /** Buttons: the index (0-based). */
  readonly index: number;
}

/** One template (one name in one language) of a tenant's WABA, as last synced from Meta. */
export interface CatalogTemplate {
  readonly tenantId: string;
  readonly wabaId: string;
  /** Meta's template id. */
  readonly templateId: string;
  readonly name: string;
  readonly language: string;
  /** Meta's status string as reported (APPROVED, PAUSED, ... or one Waygate does not know yet). */
  readonly rawStatus: string;
  /** Meta's category string as reported (MARKETING, UTILITY, AUTHENTICATION, or a new one). */
  readonly rawCategory: string;
  readonly parameterFormat: 'POSITIONAL' | 'NAMED';
  readonly components: readonly TemplateComponentSpec[];
  /** Quality score (GREEN, YELLOW, RED, UNKNOWN) or empty. */
  readonly qualityScore: string;
  /** AUTHENTICATION templates: COPY_CODE, ONE_TAP or ZERO_TAP; else empty. */
  readonly otpType: string;
  /** AUTHENTICATION templates: the code's expiry shown to the customer, else 0. */
  readonly codeExpirationMinutes: number;
  /** Meta's message_send_ttl_seconds, else 0. */
  readonly messageSendTtlSeconds: number;
  /** When the definition was last read from Meta. */
  readonly syncedAt: Date;
  /**
   * When a template webhook last changed the status (undefined if never): a sync that started before then keeps this
   * status, so a slow sync cannot undo a PAUSED it did not see yet.
   */
  readonly statusChangedAt?: Date;
}

/** A template as read from Meta, before it is stored for a tenant. */
export type TemplateDefinition = Omit<CatalogTemplate, 'tenantId' | 'wabaId' | 'syncedAt' | 'statusChangedAt'>;

/** The template's category if it is one Waygate knows. */
export function categoryOfTemplate(template: Pick<CatalogTemplate, 'rawCategory'>): TemplateCategory | undefined {
  const category = template.rawCategory;
  return category === 'MARKETING' || category === 'UTILITY' || category === 'AUTHENTICATION' ? category : undefined;
}

/** The template's status if it is one Waygate knows. */
export function statusOfTemplate(template: Pick<CatalogTemplate, 'rawStatus'>): KnownTemplateStatus | undefined {
  return (KNOWN_TEMPLATE_STATUSES as readonly string[]).includes(template.rawStatus)
    ? (template.rawStatus as KnownTemplateStatus)
    : undefined;
}

/** Names a template of a WABA: by Meta's id, or by name and language (webhooks carry both). */
export interface TemplateRef {
  readonly tenantId: string;
  readonly wabaId: string;
  readonly templateId: string;
  readonly name: string;
  readonly language: string;
}

/** What a template webhook changes at once, before the re-sync reads the whole definition. */
export interface TemplateChange {
  readonly rawStatus?: string;
  readonly rawCategory?: string;
  readonly qualityScore?: string;
}

/** Where `list` continues: after this WABA, name and language. */
export interface TemplateListCursor {
  readonly wabaId: string;
  readonly name: string;
  readonly language: string;
}

/** The tenant's template catalog, per WABA (ingress's store; both adapters pass template-catalog-store.contract.test.ts). */
export interface TemplateCatalogStore {
  /**
   * Replaces a WABA's templates with a full sync's result, in one transaction: templates not in `templates` are
   * removed (deleted at Meta). A template whose status a webhook changed after `syncStartedAt` keeps that status.
   */
  replaceWaba(
    tenantId: string,
    wabaId: string,
    templates: readonly TemplateDefinition[],
    syncStartedAt: Date,
    syncedAt: Date,
  ): Promise<void>;
  /**
   * Applies a webhook's change to one template, found by id (else by name and language); false when the catalog does
   * not have it yet (the re-sync that follows brings it). A status change records `at` as statusChangedAt.
   */
  applyChange(ref: TemplateRef, change: TemplateChange, at: Date): Promise<boolean>;
  find(tenantId: string, wabaId: string, name: string, language: string): Promise<CatalogTemplate | undefined>;
  /** One page ordered by WABA, name and language, after `after` when given. */
  list(
    tenantId: string,
    filter: { readonly wabaId?: string; readonly name?: string; readonly after?: TemplateListCursor; readonly limit: number },
  ): Promise<CatalogTemplate[]>;
  close(): Promise<void>;
}
