import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  idViolations,
  isE164,
  newId,
  type Clock,
  type FieldViolation,
  type MessageStatus,
  type TemplateComponent,
} from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { OutboundMessage } from './outbound-message';
import type { SendRequest } from './send-request';
import { categoryOfTemplate, type CatalogTemplate, type TemplateCatalogStore } from './template-catalog';
import {
  DEFAULT_AUTHENTICATION_TTL_SECONDS,
  DEFAULT_CODE_LENGTH,
  DEFAULT_SENDS_PER_NUMBER_PER_HOUR,
  DEFAULT_SENDS_PER_TENANT_PER_HOUR,
  MAX_CODE_LENGTH,
  MIN_CODE_LENGTH,
  RESEND_WINDOW_MS,
  SEND_LIMIT_WINDOW_MS,
  VERIFICATION_IDEMPOTENCY_PREFIX,
  attemptsLeft,
  codeMatches,
  decideCheck,
  effectiveStatus,
  generateCode,
  hashCode,
  type Verification,
  type VerificationStatus,
} from './verification';
import type { VerificationStore } from './verification-store';

/** StartVerification as the domain sees it. */
export interface StartVerificationRequest {
  readonly to: string;
  /** Empty: the tenant's default template. */
  readonly template: string;
  /** 0: 6. */
  readonly codeLength: number;
  /** Empty: the default template's language, else en_US. */
  readonly locale: string;
  /** Empty: the tenant's first number. */
  readonly phoneNumberId: string;
}

/** CheckVerification as the domain sees it: by id, or else the newest verification of `to`. */
export interface CheckVerificationRequest {
  readonly verificationId: string;
  readonly to: string;
  readonly code: string;
}

/** What the API shows of a verification (never its code or hash). */
export interface VerificationView {
  readonly verificationId: string;
  readonly status: VerificationStatus;
  readonly attemptsLeft: number;
  readonly expiresAt: Date;
  readonly messageId: string;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  /** StartVerification: true when an earlier pending verification was returned and nothing sent. */
  readonly resentSuppressed?: boolean;
}

/** The part of MessagingService a verification sends through (the normal send path, policies and sealing included). */
export interface VerificationMessenger {
  send(tenant: Tenant, request: SendRequest): Promise<OutboundMessage>;
  /**
   * The id of the message sent under `idempotencyKey` (`verify:<verification id>`): a verification does not store
   * its message id (one write fewer per start), it finds the message by the key it sent it with.
   */
  messageIdOf(tenantId: string, idempotencyKey: string): Promise<string | undefined>;
}

export interface VerificationService {
  start(tenant: Tenant, request: StartVerificationRequest): Promise<VerificationView>;
  check(tenant: Tenant, request: CheckVerificationRequest): Promise<VerificationView>;
  cancel(tenant: Tenant, verificationId: string): Promise<VerificationView>;
  /**
   * Follows the message that carries a code (called after ingress applied a status report to it): a FAILED message
   * makes its PENDING verification UNDELIVERABLE with Meta's error. Messages that are not a verification's are ignored.
   */
  applyMessageStatus(message: OutboundMessage): Promise<void>;
}

const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
const LOCALE = /^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})?$/;
const CODE = /^[0-9]{1,64}$/;
/** Optimistic-concurrency retries before a verification update gives up (ABORTED-like UNAVAILABLE). */
const MAX_WRITE_ROUNDS = 8;

function fieldViolation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

function view(verification: Verification, now: Date, extra: Partial<VerificationView> = {}): VerificationView {
  const status = effectiveStatus(verification, now);
  return {
    verificationId: verification.verificationId,
    status,
    attemptsLeft: status === 'PENDING' ? attemptsLeft(verification) : 0,
    expiresAt: verification.expiresAt,
    messageId: '',
    ...(verification.errorCode !== undefined ? { errorCode: verification.errorCode } : {}),
    ...(verification.errorTitle !== undefined ? { errorTitle: verification.errorTitle } : {}),
    ...extra,
  };
}

/**
 * How long a code lives: the smaller of the template's code_expiration_minutes (when set) and its send TTL
 * (message_send_ttl_seconds, else Meta's 10-minute default for authentication templates). The message carrying the
 * code is valid exactly as long, so the server and WhatsApp agree.
 */
export function codeLifetimeSeconds(template: Pick<CatalogTemplate, 'codeExpirationMinutes' | 'messageSendTtlSeconds'>): number {
  const ttl = template.messageSendTtlSeconds > 0 ? template.messageSendTtlSeconds : DEFAULT_AUTHENTICATION_TTL_SECONDS;
  return template.codeExpirationMinutes > 0 ? Math.min(template.codeExpirationMinutes * 60, ttl) : ttl;
}

/**
 * The template components that carry `code`, as the template defines them: the body's one parameter and the OTP
 * button (copy code, one tap and zero tap are all sent as a `url` button with the code as its one parameter).
 */
export function codeComponents(template: CatalogTemplate, code: string): TemplateComponent[] {
  const components: TemplateComponent[] = [];
  for (const spec of template.components) {
    if (spec.parameterCount < 1) continue;
    const parameters = [{ parameterName: spec.parameterNames[0] ?? '', value: { type: 'text' as const, text: code } }];
    if (spec.type === 'BODY') components.push({ type: 'body', subType: '', index: 0, parameters });
    else if (spec.type === 'BUTTON')
      components.push({ type: 'button', subType: spec.buttonSubType || 'url', index: spec.index, parameters });
  }
  return components;
}

/**
 * The verification service (waygate.verify.v1): one-time codes sent by authentication template through the normal
 * send path, stored only as keyed hashes, checked in constant time, with bounded checks, a 30-second resend guard
 * and hourly send limits per number and per tenant; a code's message failing makes it UNDELIVERABLE.
 */
export function createVerificationService(deps: {
  store: VerificationStore;
  messenger: VerificationMessenger;
  templates: TemplateCatalogStore;
  /** Whether the tenant's catalog has been read from Meta since start (an unknown template is UNAVAILABLE until then). */
  hasSyncedTemplates?: (tenantId: string, wabaId: string) => boolean;
  /** The region's verification secret (HMAC key). */
  secret: () => Buffer;
  clock: Clock;
}): VerificationService {
  const { store, messenger, templates, clock } = deps;
  const hasSynced = deps.hasSyncedTemplates ?? (() => true);

  async function resolveTemplate(tenant: Tenant, request: StartVerificationRequest): Promise<CatalogTemplate> {
    const fallback = tenant.verification?.defaultTemplate;
    const name = request.template || fallback?.name;
    if (!name) {
      throw new FailedPreconditionError('no template named and the tenant has no default verification template', [
        {
          type: 'NO_DEFAULT_TEMPLATE',
          subject: `tenants/${tenant.id}`,
          description: 'name an AUTHENTICATION template in `template`, or set verification.defaultTemplate in the tenants file',
        },
      ]);
    }
    const language = request.locale || (name === fallback?.name ? fallback.language : '') || 'en_US';
    const template = await templates.find(tenant.id, tenant.whatsapp.wabaId, name, language);
    if (!template) {
      if (!hasSynced(tenant.id, tenant.whatsapp.wabaId))
        throw new UnavailableError(`the template catalog of WABA ${tenant.whatsapp.wabaId} has not been read from Meta yet; retry shortly`);
      throw new NotFoundError('template', `${name} (${language})`);
    }
    if (categoryOfTemplate(template) !== 'AUTHENTICATION') {
      throw new InvalidArgumentError([
        fieldViolation(
          'template',
          'NOT_AUTHENTICATION_TEMPLATE',
          `template ${name} (${language}) is ${template.rawCategory || 'uncategorized'}, not AUTHENTICATION`,
        ),
      ]);
    }
    if (template.rawStatus !== 'APPROVED') {
      throw new FailedPreconditionError(`template ${name} (${language}) is ${template.rawStatus || 'not approved'}`, [
        {
          type: 'TEMPLATE_NOT_APPROVED',
          subject: `templates/${name}/${language}`,
          description: `the template's status is ${template.rawStatus || 'unknown'}; only APPROVED templates can be sent`,
        },
      ]);
    }
    return template;
  }

  function validateStart(request: StartVerificationRequest): void {
    const violations: FieldViolation[] = [];
    if (!isE164(request.to)) violations.push(fieldViolation('to', 'INVALID_FORMAT', 'must be an E.164 phone number, e.g. +4915112345678'));
    if (request.codeLength !== 0 && (request.codeLength < MIN_CODE_LENGTH || request.codeLength > MAX_CODE_LENGTH))
      violations.push(
        fieldViolation('code_length', 'OUT_OF_RANGE', `must be ${MIN_CODE_LENGTH} to ${MAX_CODE_LENGTH} (0: ${DEFAULT_CODE_LENGTH})`),
      );
    if (request.template && !TEMPLATE_NAME.test(request.template))
      violations.push(fieldViolation('template', 'INVALID_FORMAT', 'a template name: lowercase letters, digits and underscores'));
    if (request.locale && !LOCALE.test(request.locale))
      violations.push(fieldViolation('locale', 'INVALID_FORMAT', 'a language code such as en_US or de'));
    if (request.phoneNumberId) violations.push(...idViolations('phone_number_id', request.phoneNumberId));
    if (violations.length > 0) throw new InvalidArgumentError(violations);
  }

  async function load(tenant: Tenant, verificationId: string, to: string): Promise<Verification> {
    if (verificationId) {
      const violations = idViolations('verification_id', verificationId);
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const found = await store.get(tenant.id, verificationId);
      if (!found) throw new NotFoundError('verification', verificationId);
      return found;
    }
    if (!to) throw new InvalidArgumentError([fieldViolation('verification_id', 'REQUIRED', 'give verification_id, or `to`')]);
    if (!isE164(to)) throw new InvalidArgumentError([fieldViolation('to', 'INVALID_FORMAT', 'must be an E.164 phone number')]);
    const found = await store.latestFor(tenant.id, to);
    if (!found) throw new NotFoundError('verification', 'for this number');
    return found;
  }

  /** Applies `change` to the stored verification with optimistic concurrency; returns the verification it settled on. */
  async function updateWith(
    tenantId: string,
    verificationId: string,
    change: (current: Verification) => Verification | undefined,
  ): Promise<Verification> {
    for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
      const current = await store.get(tenantId, verificationId);
      if (!current) throw new NotFoundError('verification', verificationId);
      const next = change(current);
      if (!next) return current;
      if (await store.update({ ...next, version: current.version + 1 })) return { ...next, version: current.version + 1 };
    }
    throw new UnavailableError(`verification ${verificationId} kept changing; retry the call`);
  }

  async function applyMessageStatus(message: OutboundMessage): Promise<void> {
    if (!message.idempotencyKey.startsWith(VERIFICATION_IDEMPOTENCY_PREFIX)) return;
    if (message.status !== ('FAILED' satisfies MessageStatus)) return;
    const verificationId = message.idempotencyKey.slice(VERIFICATION_IDEMPOTENCY_PREFIX.length);
    const failure = [...message.timeline].reverse().find((entry) => entry.status === 'FAILED');
    const existing = await store.get(message.tenantId, verificationId);
    if (!existing) return;
    await updateWith(message.tenantId, verificationId, (current) =>
      current.status !== 'PENDING'
        ? undefined
        : {
            ...current,
            status: 'UNDELIVERABLE',
            ...(failure?.errorCode !== undefined ? { errorCode: failure.errorCode } : {}),
            ...(failure?.errorTitle !== undefined ? { errorTitle: failure.errorTitle } : {}),
          },
    );
  }

  return {
    async start(tenant, request) {
      validateStart(request);
      const template = await resolveTemplate(tenant, request);
      const now = clock.now();
      const lifetimeSeconds = codeLifetimeSeconds(template);
      const verificationId = newId('ver', now);
      const code = generateCode(request.codeLength || DEFAULT_CODE_LENGTH);
      const phoneNumberId = request.phoneNumberId || tenant.whatsapp.phoneNumbers[0]?.id || '';
      const candidate: Verification = {
        tenantId: tenant.id,
        verificationId,
        to: request.to,
        phoneNumberId,
        templateName: template.name,
        templateLanguage: template.language,
        codeHash: hashCode(deps.secret(), { tenantId: tenant.id, verificationId }, code),
        status: 'PENDING',
        checks: 0,
        createdAt: now,
        expiresAt: new Date(now.getTime() + lifetimeSeconds * 1000),
        version: 1,
      };
      const settings = tenant.verification;
      const reserved = await store.reserve(candidate, {
        resendWindowStart: new Date(now.getTime() - RESEND_WINDOW_MS),
        limitWindowStart: new Date(now.getTime() - SEND_LIMIT_WINDOW_MS),
        sendsPerNumber: settings?.sendsPerNumberPerHour ?? DEFAULT_SENDS_PER_NUMBER_PER_HOUR,
        sendsPerTenant: settings?.sendsPerTenantPerHour ?? DEFAULT_SENDS_PER_TENANT_PER_HOUR,
      });
      if (reserved.kind === 'pending') {
        const messageId = await messenger.messageIdOf(
          tenant.id,
          `${VERIFICATION_IDEMPOTENCY_PREFIX}${reserved.verification.verificationId}`,
        );
        return view(reserved.verification, now, { resentSuppressed: true, messageId: messageId ?? '' });
      }
      if (reserved.kind === 'limited') {
        const retryAfterMs = Math.max(1000, reserved.oldestInWindow.getTime() + SEND_LIMIT_WINDOW_MS - now.getTime());
        throw new ResourceExhaustedError(
          reserved.scope === 'number'
            ? 'too many verification codes sent to this number in the last hour'
            : 'the tenant sent too many verification codes in the last hour',
          retryAfterMs,
        );
      }
      let message: OutboundMessage;
      try {
        message = await messenger.send(tenant, {
          to: request.to,
          content: { kind: 'template', name: template.name, language: template.language, components: codeComponents(template, code) },
          idempotencyKey: `${VERIFICATION_IDEMPOTENCY_PREFIX}${verificationId}`,
          validity: { seconds: lifetimeSeconds, nanos: 0 },
          phoneNumberId,
          replyTo: '',
        });
      } catch (error) {
        // Refused before anything was sent (a send policy, the tenant's rate): the reservation neither answers a
        // later start nor counts against the limits.
        await store.remove(tenant.id, verificationId);
        throw error;
      }
      // A message already FAILED (a status report that came first) is reflected at once.
      await applyMessageStatus(message);
      return view(candidate, now, { resentSuppressed: false, messageId: message.messageId });
    },

    async check(tenant, request) {
      if (!CODE.test(request.code)) throw new InvalidArgumentError([fieldViolation('code', 'INVALID_FORMAT', 'the code: 1 to 64 digits')]);
      const found = await load(tenant, request.verificationId, request.to);
      const now = clock.now();
      const settled = await updateWith(tenant.id, found.verificationId, (current) => {
        const decision = decideCheck(current, () => codeMatches(deps.secret(), current, request.code), now);
        return decision.kind === 'update' ? decision.next : undefined;
      });
      return view(settled, now);
    },

    async cancel(tenant, verificationId) {
      const found = await load(tenant, verificationId, '');
      const now = clock.now();
      const settled = await updateWith(tenant.id, found.verificationId, (current) => {
        const status = effectiveStatus(current, now);
        if (status === 'CANCELED') return undefined;
        if (status === 'EXPIRED' && current.status === 'PENDING') return { ...current, status: 'EXPIRED' };
        if (status !== 'PENDING') return undefined;
        return { ...current, status: 'CANCELED' };
      });
      const status = effectiveStatus(settled, now);
      if (status !== 'CANCELED') {
        throw new FailedPreconditionError(`verification ${found.verificationId} is ${status} and can no longer be canceled`, [
          {
            type: 'VERIFICATION_STATUS',
            subject: `verifications/${found.verificationId}`,
            description: `status is ${status}; only a PENDING verification can be canceled`,
          },
        ]);
      }
      return view(settled, now);
    },

    applyMessageStatus,
  };
}
