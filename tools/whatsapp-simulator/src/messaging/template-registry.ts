import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  invalidParameterError,
  invalidParameterValueError,
  templateNotFoundError,
  templateParameterFormatError,
  templateParameterMismatchError,
  type MetaApiError,
} from '../cloud-api/meta-errors';
import { renderMetaTemplate } from './template-rendering';
import type { TemplateSendRequest } from '../cloud-api/send-request-validation';
import { SimulatorInputError } from '../simulator-input-error';
import type { SimulatorTemplate, SimulatorTemplateButton } from '../types';

/** The outcome of {@link TemplateRegistry.check}. */
export type TemplateCheck = { ok: true; template: SimulatorTemplate } | { ok: false; error: MetaApiError };

/** 131008 with Meta's free-form details (the shared constructor only words "The parameter X is required."). */
function requiredTemplateParameterError(details: string): MetaApiError {
  return { httpStatus: 400, code: 131008, type: 'OAuthException', message: '(#131008) Required parameter is missing', details };
}

/** Meta's wording when a named template gets a parameter without `parameter_name` (it answers #100, not 132012). */
const PARAMETER_NAME_MISSING = 'Parameter name is missing or empty';

/** What a send must supply for one component: a count (positional) or a set of names (named). */
interface ExpectedParameters {
  count: number;
  names: readonly string[] | undefined;
}

function expectedParameters(spec: number | readonly string[] | undefined): ExpectedParameters {
  if (spec === undefined) return { count: 0, names: undefined };
  return typeof spec === 'number' ? { count: spec, names: undefined } : { count: spec.length, names: spec };
}

function countMismatch(component: string, sent: number, expected: number): MetaApiError {
  // Meta's own wording, e.g. "body: number of localizable_params (1) does not match the expected number of params (2)".
  return templateParameterMismatchError(
    `${component}: number of localizable_params (${sent}) does not match the expected number of params (${expected})`,
  );
}

/** Checks one text-like component (TEXT header or body): parameter format, then count, then names. */
function checkTextParameters(
  component: string,
  named: boolean,
  sent: { parameterCount: number; parameterNames: readonly string[] },
  expected: ExpectedParameters,
): MetaApiError | undefined {
  const unnamed = sent.parameterCount - sent.parameterNames.length;
  if (named && unnamed > 0) return invalidParameterError(PARAMETER_NAME_MISSING);
  if (!named && sent.parameterNames.length > 0) {
    return templateParameterFormatError(`${component}: named parameters were sent, but the template uses positional parameters`);
  }
  if (sent.parameterCount !== expected.count) return countMismatch(component, sent.parameterCount, expected.count);
  if (!named) return undefined;
  const expectedNames = new Set(expected.names);
  const sentNames = new Set(sent.parameterNames);
  const missing = [...expectedNames].filter((name) => !sentNames.has(name));
  const unexpected = [...new Set(sent.parameterNames.filter((name) => !expectedNames.has(name)))];
  const duplicated = sent.parameterNames.filter((name, index) => sent.parameterNames.indexOf(name) !== index);
  if (missing.length === 0 && unexpected.length === 0 && duplicated.length === 0) return undefined;
  const problems = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    unexpected.length > 0 ? `unexpected ${unexpected.join(', ')}` : '',
    duplicated.length > 0 ? `repeated ${[...new Set(duplicated)].join(', ')}` : '',
  ].filter((problem) => problem !== '');
  return templateParameterMismatchError(`${component}: parameter names do not match the template (${problems.join('; ')})`);
}

function checkHeader(template: SimulatorTemplate, sent: TemplateSendRequest, named: boolean): MetaApiError | undefined {
  const header = template.header;
  const sentHeader = sent.header;
  if (header === undefined || header.format === 'TEXT') {
    if (sentHeader !== undefined && sentHeader.kind !== 'text') {
      if (header === undefined) return countMismatch('header', 1, 0);
      return templateParameterFormatError(`header: Format mismatch, expected TEXT, received ${sentHeader.kind.toUpperCase()}`);
    }
    const parameters = sentHeader ?? { parameterCount: 0, parameterNames: [] };
    return checkTextParameters('header', named, parameters, expectedParameters(header?.parameters));
  }
  // A media or location header needs its value on every send; Meta reports a missing one as an UNKNOWN format.
  const received =
    sentHeader === undefined || (sentHeader.kind === 'text' && sentHeader.parameterCount === 0) ? 'UNKNOWN' : sentHeader.kind.toUpperCase();
  if (received !== header.format)
    return templateParameterFormatError(`header: Format mismatch, expected ${header.format}, received ${received}`);
  return undefined;
}

/** How one approved button may be sent: accepted `sub_type`s and how many parameters. */
interface ButtonRule {
  subTypes: readonly string[];
  minParameters: number;
  maxParameters: number;
  /** Name in Meta's "Button at index N of type X requires a parameter". */
  label: string;
}

function buttonRule(button: SimulatorTemplateButton): ButtonRule {
  switch (button.type) {
    case 'URL':
      return button.dynamic === true
        ? { subTypes: ['url'], minParameters: 1, maxParameters: 1, label: 'Url' }
        : { subTypes: ['url'], minParameters: 0, maxParameters: 0, label: 'Url' };
    case 'QUICK_REPLY':
      // The payload is optional; without it the webhook carries the button text.
      return { subTypes: ['quick_reply'], minParameters: 0, maxParameters: 1, label: 'QuickReply' };
    case 'COPY_CODE':
      return { subTypes: ['copy_code'], minParameters: 1, maxParameters: 1, label: 'CopyCode' };
    case 'OTP':
      // Authentication templates send the code as a `url` button parameter (copy code and one-tap alike).
      return { subTypes: ['url', 'copy_code'], minParameters: 1, maxParameters: 1, label: 'Url' };
    case 'PHONE_NUMBER':
      return { subTypes: [], minParameters: 0, maxParameters: 0, label: 'PhoneNumber' };
  }
}

function checkButtons(template: SimulatorTemplate, sent: TemplateSendRequest): MetaApiError | undefined {
  const approved = template.buttons ?? [];
  for (const button of sent.buttons) {
    const definition = approved[button.index];
    if (definition === undefined) {
      return invalidParameterValueError(`buttons: the template has no button at index ${button.index}`);
    }
    const rule = buttonRule(definition);
    if (!rule.subTypes.includes(button.subType)) {
      return invalidParameterValueError(
        `buttons: Button at index ${button.index} is a ${definition.type} button and cannot be sent as ${button.subType}`,
      );
    }
    if (button.parameterCount < rule.minParameters) {
      return requiredTemplateParameterError(`buttons: Button at index ${button.index} of type ${rule.label} requires a parameter`);
    }
    if (button.parameterCount > rule.maxParameters)
      return countMismatch(`buttons[${button.index}]`, button.parameterCount, rule.maxParameters);
  }
  const sentIndexes = new Set(sent.buttons.map((button) => button.index));
  const unsent = approved.findIndex((button, index) => buttonRule(button).minParameters > 0 && !sentIndexes.has(index));
  if (unsent >= 0) {
    return requiredTemplateParameterError(
      `buttons: Button at index ${unsent} of type ${buttonRule(approved[unsent]).label} requires a parameter`,
    );
  }
  return undefined;
}

function templateKey(wabaId: string, name: string): string {
  return JSON.stringify([wabaId, name]);
}

/** The approved templates of the simulated WABAs, and Meta's checks of a template send against them. */
export class TemplateRegistry {
  // wabaId+name -> language -> template, so a known name in another language is told apart (both are 132001 anyway).
  private readonly byName = new Map<string, Map<string, SimulatorTemplate>>();
  private readonly all: readonly SimulatorTemplate[];
  // Status changes made through the control API, by WABA, name and language.
  private readonly statuses = new Map<string, string>();

  /** Throws {@link SimulatorInputError} when two templates share WABA, name and language. */
  constructor(templates: readonly SimulatorTemplate[]) {
    this.all = [...templates];
    this.all.forEach((template, index) => {
      const key = templateKey(template.wabaId, template.name);
      const languages = this.byName.get(key) ?? new Map<string, SimulatorTemplate>();
      if (languages.has(template.language)) throw new SimulatorInputError(duplicateMessage(index, template));
      languages.set(template.language, template);
      this.byName.set(key, languages);
    });
  }

  /** Finds the template by WABA, name and language, and checks the parameters sent against it. */
  check(wabaId: string, sent: TemplateSendRequest): TemplateCheck {
    const template = this.byName.get(templateKey(wabaId, sent.name))?.get(sent.languageCode);
    if (template === undefined) return { ok: false, error: templateNotFoundError(sent.name, sent.languageCode) };
    const status = this.statusOf(template);
    if (status !== 'APPROVED') return { ok: false, error: templateNotSendableError(template, status) };
    const named = template.parameterFormat === 'NAMED';
    const error =
      checkHeader(template, sent, named) ??
      checkTextParameters('body', named, sent.body, expectedParameters(template.bodyParameters)) ??
      checkButtons(template, sent);
    return error === undefined ? { ok: true, template } : { ok: false, error };
  }

  /** Every template, or those of one WABA, in configuration order. */
  list(wabaId?: string): SimulatorTemplate[] {
    return this.all.filter((template) => wabaId === undefined || template.wabaId === wabaId);
  }

  /** The template's current status (APPROVED unless configured or changed). */
  statusOf(template: SimulatorTemplate): string {
    return this.statuses.get(statusKey(template)) ?? template.status ?? 'APPROVED';
  }

  /** Changes a template's status; throws SimulatorInputError for an unknown template or an empty status. */
  setStatus(wabaId: string, name: string, language: string, status: string): SimulatorTemplate {
    const template = this.byName.get(templateKey(wabaId, name))?.get(language);
    if (template === undefined) throw new SimulatorInputError(`no template ${name}/${language} in WABA ${wabaId}`);
    if (!/^[A-Z_]{1,40}$/.test(status)) throw new SimulatorInputError('status must be an upper-case Meta status such as PAUSED');
    this.statuses.set(statusKey(template), status);
    return template;
  }

  /** Forgets status changes (back to the configured statuses). */
  resetStatuses(): void {
    this.statuses.clear();
  }

  /** A WABA's templates as Meta's `GET /{waba_id}/message_templates` lists them, in configuration order. */
  metaTemplates(wabaId: string): Record<string, unknown>[] {
    return this.list(wabaId).map((template) => renderMetaTemplate(template, templateIdOf(template), this.statusOf(template)));
  }
}

function statusKey(template: SimulatorTemplate): string {
  return JSON.stringify([template.wabaId, template.name, template.language]);
}

/** Meta's template id: as configured, else a stable 15-digit id derived from WABA, name and language. */
export function templateIdOf(template: SimulatorTemplate): string {
  if (template.id !== undefined) return template.id;
  const digits = BigInt(`0x${createHash('sha256').update(statusKey(template)).digest('hex').slice(0, 15)}`) % 10n ** 15n;
  return (10n ** 14n + (digits % (9n * 10n ** 14n))).toString();
}

/** Meta's answer for a template that exists but is not APPROVED: 132015 paused, 132016 disabled, else 132001. */
function templateNotSendableError(template: SimulatorTemplate, status: string): MetaApiError {
  if (status === 'PAUSED') {
    return {
      httpStatus: 400,
      code: 132015,
      type: 'OAuthException',
      message: '(#132015) Template is Paused',
      details: `template ${template.name} is paused`,
    };
  }
  if (status === 'DISABLED') {
    return {
      httpStatus: 400,
      code: 132016,
      type: 'OAuthException',
      message: '(#132016) Template is Disabled',
      details: `template ${template.name} is disabled`,
    };
  }
  return templateNotFoundError(template.name, template.language);
}

function duplicateMessage(index: number, template: SimulatorTemplate): string {
  return `templates[${index}] repeats wabaId '${template.wabaId}', name '${template.name}' and language '${template.language}'`;
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration parsing
// ---------------------------------------------------------------------------------------------------------------

// Meta allows lower-case letters, digits and underscores in template and parameter names.
const META_NAME = /^[a-z0-9_]+$/;

const parameterSpec = z.union([
  z.number().int().min(0),
  z
    .array(z.string().regex(META_NAME, 'must be lower-case letters, digits and underscores'))
    .refine((names) => new Set(names).size === names.length, 'must not repeat a name'),
]);

const templateSchema = z
  .strictObject({
    wabaId: z.string().min(1),
    name: z.string().max(512).regex(META_NAME, 'must be lower-case letters, digits and underscores'),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2,4})?$/, 'must be a Meta language code such as en or en_US'),
    category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']),
    parameterFormat: z.enum(['POSITIONAL', 'NAMED']).optional(),
    header: z
      .strictObject({ format: z.enum(['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION']), parameters: parameterSpec.optional() })
      .optional(),
    bodyParameters: parameterSpec.optional(),
    buttons: z
      .array(z.strictObject({ type: z.enum(['QUICK_REPLY', 'URL', 'COPY_CODE', 'PHONE_NUMBER', 'OTP']), dynamic: z.boolean().optional() }))
      .max(10)
      .optional(),
    id: z
      .string()
      .regex(/^\d{1,20}$/, 'must be digits')
      .optional(),
    status: z
      .string()
      .regex(/^[A-Z_]{1,40}$/, 'must be an upper-case Meta status such as APPROVED')
      .optional(),
    otpType: z.enum(['COPY_CODE', 'ONE_TAP', 'ZERO_TAP']).optional(),
    codeExpirationMinutes: z.number().int().min(1).max(90).optional(),
    messageSendTtlSeconds: z.number().int().min(30).max(2_592_000).optional(),
  })
  .superRefine((template, ctx) => {
    const named = template.parameterFormat === 'NAMED';
    const checkFormat = (spec: number | string[] | undefined, path: PropertyKey[]) => {
      if (named && typeof spec === 'number' && spec > 0)
        ctx.addIssue({ code: 'custom', path, message: 'must list the parameter names of a NAMED template' });
      if (!named && Array.isArray(spec)) ctx.addIssue({ code: 'custom', path, message: 'must be a count for a POSITIONAL template' });
    };
    checkFormat(template.bodyParameters, ['bodyParameters']);
    const header = template.header;
    if (header?.parameters !== undefined) {
      checkFormat(header.parameters, ['header', 'parameters']);
      const count = expectedParameters(header.parameters).count;
      if (header.format !== 'TEXT' && count > 0)
        ctx.addIssue({ code: 'custom', path: ['header', 'parameters'], message: 'only a TEXT header has parameters' });
      if (count > 1) ctx.addIssue({ code: 'custom', path: ['header', 'parameters'], message: 'a TEXT header takes at most one parameter' });
    }
    template.buttons?.forEach((button, index) => {
      if (button.dynamic === true && button.type !== 'URL') {
        ctx.addIssue({ code: 'custom', path: ['buttons', index, 'dynamic'], message: 'only a URL button can be dynamic' });
      }
    });
  });

/** `templates[2].header.format` for a zod path below the templates array. */
function configPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`), 'templates');
}

/**
 * Validates templates from config/untrusted input; throws SimulatorInputError naming the bad field (e.g.
 * `templates[2].category`). Duplicate (wabaId, name, language) is an error.
 */
export function parseSimulatorTemplates(value: unknown): SimulatorTemplate[] {
  const result = z.array(templateSchema).safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${configPath(issue.path)}: ${issue.message}`);
    throw new SimulatorInputError(`invalid templates: ${problems.join('; ')}`);
  }
  const templates: SimulatorTemplate[] = result.data;
  const seen = new Set<string>();
  templates.forEach((template, index) => {
    const key = JSON.stringify([template.wabaId, template.name, template.language]);
    if (seen.has(key)) throw new SimulatorInputError(duplicateMessage(index, template));
    seen.add(key);
  });
  return templates;
}
