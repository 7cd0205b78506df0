/**
 * Meta's template management read: `GET /{version}/{waba_id}/message_templates`, paged, and what a template expects
 * in a send, read from Meta's template object (components with `{{1}}` or `{{name}}` placeholders, buttons, OTP
 * settings). Meta's answer looks like:
 *
 * ```json
 * { "data": [ { "name": "order_update", "parameter_format": "NAMED", "language": "en_US", "status": "APPROVED",
 *               "category": "UTILITY", "id": "1234",
 *               "components": [ { "type": "BODY", "text": "Hi {{first_name}}", "example": { ... } } ] } ],
 *   "paging": { "cursors": { "before": "MAZDZD", "after": "MjQZD" }, "next": "https://graph.facebook.com/...&after=MjQZD" } }
 * ```
 */
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { CloudApiError } from './cloud-api-error';
import { parseMetaErrorBody, readBoundedBody } from './response-body';

const tracer = trace.getTracer('@waygate/whatsapp-cloud-api');

/** One page of templates is at most this large (a page of 100 templates with long texts stays well below). */
export const MAX_TEMPLATE_PAGE_BYTES = 4 * 1024 * 1024;
/** Templates asked for per page. */
export const TEMPLATE_PAGE_LIMIT = 100;
/** Longest text kept from a template (names, statuses, ids); Meta's own limits are far below. */
const MAX_FIELD_CHARS = 512;
/** Most components and buttons read from one template (Meta allows 10 buttons). */
const MAX_COMPONENTS = 32;

/** One component as a send must fill it: a HEADER, the BODY, the FOOTER, or one BUTTON (one per button). */
export interface MessageTemplateComponent {
  readonly type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTON';
  /** Headers: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION; empty otherwise. */
  readonly headerFormat: string;
  /** NAMED templates: the placeholder names in order of first appearance; empty for positional ones. */
  readonly parameterNames: readonly string[];
  /** How many parameters the component takes ({{1}}..{{n}}, the names, one media or location, one button value). */
  readonly parameterCount: number;
  /** Buttons: Meta's button type (QUICK_REPLY, URL, OTP, COPY_CODE, PHONE_NUMBER, FLOW, ...); empty otherwise. */
  readonly buttonType: string;
  /** Buttons: the send-side `sub_type` (quick_reply, url, copy_code, flow, ...); OTP buttons are sent as `url`. */
  readonly buttonSubType: string;
  /** Buttons: position among the template's buttons (0-based); 0 otherwise. */
  readonly index: number;
}

/** A template as Meta reports it, with what each component expects. Status and category strings are kept raw. */
export interface MessageTemplate {
  readonly id: string;
  readonly name: string;
  readonly language: string;
  readonly status: string;
  readonly category: string;
  readonly parameterFormat: 'POSITIONAL' | 'NAMED';
  readonly components: readonly MessageTemplateComponent[];
  /** `quality_score.score` when reported (GREEN, YELLOW, RED, UNKNOWN), else empty. */
  readonly qualityScore: string;
  /** Authentication templates: the OTP button's `otp_type` (COPY_CODE, ONE_TAP, ZERO_TAP), else empty. */
  readonly otpType: string;
  /** Authentication templates: the FOOTER's `code_expiration_minutes`, else 0. */
  readonly codeExpirationMinutes: number;
  /** Top-level `message_send_ttl_seconds`, else 0. */
  readonly messageSendTtlSeconds: number;
}

/** One page of `GET /{waba_id}/message_templates`. */
export interface MessageTemplatePage {
  readonly templates: readonly MessageTemplate[];
  /** `paging.cursors.after` when Meta says there is a next page (`paging.next`); undefined on the last page. */
  readonly after?: string;
  /** Templates on the page that could not be read (no name, language or id), for logs. */
  readonly skipped: number;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' ? value.slice(0, MAX_FIELD_CHARS) : '';
}

function nonNegativeInteger(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** The distinct placeholders of a text, in order of first appearance (`{{1}}` gives "1"). */
function placeholdersOf(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return [...new Set([...value.matchAll(PLACEHOLDER)].map((match) => match[1] as string))];
}

function textParameters(value: unknown, named: boolean): { parameterNames: string[]; parameterCount: number } {
  const placeholders = placeholdersOf(value);
  return { parameterNames: named ? placeholders : [], parameterCount: placeholders.length };
}

const SUB_TYPES: Readonly<Record<string, string>> = {
  QUICK_REPLY: 'quick_reply',
  URL: 'url',
  OTP: 'url',
  COPY_CODE: 'copy_code',
  FLOW: 'flow',
  CATALOG: 'catalog',
  MPM: 'mpm',
  PHONE_NUMBER: '',
};

/**
 * A button as a send fills it. Authentication templates' code buttons are `OTP` (in newer answers) or a URL to
 * whatsapp.com/otp with `otp_type` in its query (in older ones); both take the code as a `url` button parameter.
 */
function buttonSpec(button: Json, index: number, named: boolean): { spec: MessageTemplateComponent; otpType: string } {
  const rawType = text(button.type).toUpperCase();
  const url = text(button.url);
  const otpFromUrl = rawType === 'URL' ? /[?&]otp_type=([A-Z_]+)/.exec(url)?.[1] : undefined;
  const buttonType = otpFromUrl ? 'OTP' : rawType;
  const otpType = buttonType === 'OTP' ? text(button.otp_type).toUpperCase() || (otpFromUrl ?? '') : '';
  let parameterCount = 0;
  if (buttonType === 'OTP' || buttonType === 'COPY_CODE') parameterCount = 1;
  else if (buttonType === 'URL') parameterCount = Math.min(textParameters(url, named).parameterCount, 1);
  return {
    spec: {
      type: 'BUTTON',
      headerFormat: '',
      parameterNames: [],
      parameterCount,
      buttonType,
      buttonSubType: SUB_TYPES[buttonType] ?? buttonType.toLowerCase(),
      index,
    },
    otpType,
  };
}

/** Reads one of Meta's template objects; undefined when it lacks an id, a name or a language. */
export function parseMessageTemplate(raw: unknown): MessageTemplate | undefined {
  if (!isRecord(raw)) return undefined;
  const id = text(raw.id);
  const name = text(raw.name);
  const language = text(raw.language);
  if (!id || !name || !language) return undefined;
  const parameterFormat = text(raw.parameter_format).toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL';
  const named = parameterFormat === 'NAMED';
  const components: MessageTemplateComponent[] = [];
  let otpType = '';
  let codeExpirationMinutes = 0;
  const rawComponents = Array.isArray(raw.components) ? raw.components.slice(0, MAX_COMPONENTS) : [];
  const empty = { headerFormat: '', parameterNames: [], parameterCount: 0, buttonType: '', buttonSubType: '', index: 0 };
  for (const component of rawComponents) {
    if (!isRecord(component)) continue;
    switch (text(component.type).toUpperCase()) {
      case 'HEADER': {
        const format = text(component.format).toUpperCase() || 'TEXT';
        const parameters = format === 'TEXT' ? textParameters(component.text, named) : { parameterNames: [], parameterCount: 1 };
        components.push({ ...empty, type: 'HEADER', headerFormat: format, ...parameters });
        break;
      }
      case 'BODY':
        components.push({ ...empty, type: 'BODY', ...textParameters(component.text, named) });
        // Authentication bodies are Meta's fixed text with the code as {{1}}; older answers carry no text at all.
        if (text(raw.category).toUpperCase() === 'AUTHENTICATION' && components[components.length - 1]?.parameterCount === 0) {
          components[components.length - 1] = { ...empty, type: 'BODY', parameterCount: 1 };
        }
        break;
      case 'FOOTER':
        components.push({ ...empty, type: 'FOOTER' });
        codeExpirationMinutes = nonNegativeInteger(component.code_expiration_minutes) || codeExpirationMinutes;
        break;
      case 'BUTTONS': {
        const buttons = Array.isArray(component.buttons) ? component.buttons.slice(0, MAX_COMPONENTS) : [];
        buttons.forEach((button, index) => {
          if (!isRecord(button)) return;
          const read = buttonSpec(button, index, named);
          components.push(read.spec);
          otpType ||= read.otpType;
        });
        break;
      }
      default:
        // CAROUSEL, LIMITED_TIME_OFFER, ...: not sendable through Waygate yet; listed without parameters.
        break;
    }
  }
  const quality = isRecord(raw.quality_score) ? text(raw.quality_score.score) : '';
  return {
    id,
    name,
    language,
    status: text(raw.status).toUpperCase(),
    category: text(raw.category).toUpperCase(),
    parameterFormat,
    components,
    qualityScore: quality.toUpperCase(),
    otpType,
    codeExpirationMinutes,
    messageSendTtlSeconds: nonNegativeInteger(raw.message_send_ttl_seconds),
  };
}

/** Reads one page of Meta's answer; undefined when it is not `{ data: [...] }`. */
export function parseMessageTemplatePage(body: unknown): MessageTemplatePage | undefined {
  if (!isRecord(body) || !Array.isArray(body.data)) return undefined;
  const templates: MessageTemplate[] = [];
  let skipped = 0;
  for (const raw of body.data) {
    const template = parseMessageTemplate(raw);
    if (template) templates.push(template);
    else skipped++;
  }
  const paging = isRecord(body.paging) ? body.paging : {};
  const cursors = isRecord(paging.cursors) ? paging.cursors : {};
  const after = text(cursors.after);
  // Meta sets `next` only when there is a next page; `cursors.after` is set on the last page too.
  const hasNext = typeof paging.next === 'string' && paging.next !== '' && after !== '';
  return { templates, ...(hasNext ? { after } : {}), skipped };
}

/** Where the template reader reaches the Graph API. */
export interface MessageTemplateReaderOptions {
  readonly baseUrl: string;
  readonly version: string;
  readonly timeoutMs: number;
}

/** Reads a WABA's templates, one page per call. */
export interface MessageTemplateReader {
  /**
   * `GET /{version}/{waba_id}/message_templates?limit=100[&after=cursor]`. Rejects with a CloudApiError (Meta's error,
   * a timeout, a connection failure, or an `unusable-answer` for a body that is not a template list).
   */
  listPage(request: {
    readonly wabaId: string;
    readonly accessToken: string;
    readonly after?: string;
    /** Templates per page; default {@link TEMPLATE_PAGE_LIMIT}. */
    readonly limit?: number;
    /** Aborts the call (e.g. when the service stops); it then rejects like a lost connection. */
    readonly signal?: AbortSignal;
  }): Promise<MessageTemplatePage>;
}

/** Creates a reader of Meta's template management endpoint at `options.baseUrl`. */
export function createMessageTemplateReader(options: MessageTemplateReaderOptions): MessageTemplateReader {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    listPage({ wabaId, accessToken, after, limit, signal }) {
      const url = new URL(`${base}/${options.version}/${encodeURIComponent(wabaId)}/message_templates`);
      url.searchParams.set('limit', String(limit ?? TEMPLATE_PAGE_LIMIT));
      if (after) url.searchParams.set('after', after);
      return tracer.startActiveSpan(
        'GET whatsapp /message_templates',
        { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'server.address': url.hostname, 'waygate.waba_id': wabaId } },
        async (span) => {
          const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
          propagation.inject(context.active(), headers);
          try {
            let response: Response;
            try {
              const timeout = AbortSignal.timeout(options.timeoutMs);
              response = await fetch(url, { headers, redirect: 'error', signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
            } catch (error) {
              const timedOut = (error as Error).name === 'TimeoutError';
              throw new CloudApiError(timedOut ? 'timeout' : 'connection-lost', {
                title: timedOut ? `no answer within ${options.timeoutMs} ms` : `connection failed: ${(error as Error).message}`,
                cause: error,
              });
            }
            span.setAttribute('http.response.status_code', response.status);
            const bytes = await readBoundedBody(response, MAX_TEMPLATE_PAGE_BYTES);
            let body: unknown;
            try {
              body = bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as unknown);
            } catch {
              body = undefined;
            }
            if (!response.ok) {
              const fields = parseMetaErrorBody(body);
              throw new CloudApiError('meta-error', {
                httpStatus: response.status,
                ...fields,
                title: fields.message ?? `HTTP ${response.status}`,
              });
            }
            const page = parseMessageTemplatePage(body);
            if (!page) throw new CloudApiError('unusable-answer', { httpStatus: 502, title: 'template list without a data array' });
            return page;
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}
