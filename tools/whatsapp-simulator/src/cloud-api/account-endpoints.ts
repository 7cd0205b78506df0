import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodePathSegment, sendJson } from '../http/http-body';
import { toWaId } from '../phone-numbers';
import { SimulatorInputError } from '../simulator-input-error';
import type { SimulatorPhoneNumber } from '../types';
import { extractAccessToken } from './access-token';
import { invalidAccessTokenError, toMetaErrorResponseBody, unknownObjectError, type MetaApiError } from './meta-errors';

/** Meta's account webhook fields the simulator can emit (`POST /_simulator/account-webhooks`). */
export const ACCOUNT_WEBHOOK_FIELDS = ['phone_number_quality_update', 'business_capability_update', 'account_update'] as const;
export type AccountWebhookField = (typeof ACCOUNT_WEBHOOK_FIELDS)[number];

/** What the simulator reports about a number's standing (GET /{phone_number_id}); account webhooks change it. */
export interface NumberStanding {
  qualityRating: 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';
  /** `whatsapp_business_manager_messaging_limit`, e.g. TIER_250. */
  messagingLimit: string;
  /** `throughput.level`: STANDARD (80 per second) or HIGH (1,000 after a THROUGHPUT_UPGRADE). */
  throughputLevel: 'STANDARD' | 'HIGH';
}

export const INITIAL_STANDING: Readonly<NumberStanding> = {
  qualityRating: 'GREEN',
  messagingLimit: 'TIER_250',
  throughputLevel: 'STANDARD',
};

/** An account webhook to emit: the field, the number (default: the first configured) and Meta's `value` fields. */
export interface AccountWebhookInput {
  field: AccountWebhookField;
  phoneNumberId?: string;
  /** Fields of Meta's `value` object, over the defaults of the field (see {@link defaultAccountValue}). */
  value?: Record<string, unknown>;
}

/** Meta's `value` for a field, filled in for the number, with `overrides` on top. */
export function defaultAccountValue(
  field: AccountWebhookField,
  phone: SimulatorPhoneNumber,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const defaults: Record<AccountWebhookField, Record<string, unknown>> = {
    phone_number_quality_update: {
      display_phone_number: toWaId(phone.displayPhoneNumber),
      event: 'THROUGHPUT_UPGRADE',
      current_limit: 'TIER_UNLIMITED',
    },
    business_capability_update: {
      max_daily_conversation_per_phone: 2000,
      max_daily_conversations_per_business: 2000,
      max_phone_numbers_per_business: 2,
    },
    account_update: {
      phone_number: toWaId(phone.displayPhoneNumber),
      event: 'ACCOUNT_VIOLATION',
      violation_info: { violation_type: 'SCAM' },
    },
  };
  return { ...defaults[field], ...overrides };
}

/** The body Meta POSTs for one account change of a WABA. */
export function buildAccountWebhookPayload(
  field: AccountWebhookField,
  wabaId: string,
  value: Record<string, unknown>,
  nowMs: number,
): unknown {
  return { object: 'whatsapp_business_account', entry: [{ id: wabaId, time: Math.floor(nowMs / 1000), changes: [{ value, field }] }] };
}

/** Checks the control API's input; throws SimulatorInputError naming what is wrong. */
export function parseAccountWebhookInput(body: unknown): AccountWebhookInput {
  const record = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const field = ACCOUNT_WEBHOOK_FIELDS.find((name) => name === record.field);
  if (!field) throw new SimulatorInputError(`field must be one of ${ACCOUNT_WEBHOOK_FIELDS.join(', ')}`);
  if (record.phoneNumberId !== undefined && typeof record.phoneNumberId !== 'string')
    throw new SimulatorInputError('phoneNumberId must be a string');
  if (record.value !== undefined && (typeof record.value !== 'object' || record.value === null || Array.isArray(record.value)))
    throw new SimulatorInputError('value must be an object');
  return {
    field,
    ...(record.phoneNumberId === undefined ? {} : { phoneNumberId: record.phoneNumberId }),
    ...(record.value === undefined ? {} : { value: record.value as Record<string, unknown> }),
  };
}

/** How an emitted change moves the number's standing, as Meta's would. */
export function applyToStanding(standing: NumberStanding, field: AccountWebhookField, value: Record<string, unknown>): NumberStanding {
  if (field !== 'phone_number_quality_update') return standing;
  const next = { ...standing };
  if (value.event === 'THROUGHPUT_UPGRADE') next.throughputLevel = 'HIGH';
  if (value.event === 'FLAGGED') next.qualityRating = 'RED';
  if (value.event === 'UNFLAGGED') next.qualityRating = 'GREEN';
  if (typeof value.current_limit === 'string' && /^TIER_/.test(value.current_limit) && value.event !== 'THROUGHPUT_UPGRADE')
    next.messagingLimit = value.current_limit;
  return next;
}

/** What the account endpoints need from the simulator. */
export interface AccountEndpointDeps {
  phoneNumbers(): readonly SimulatorPhoneNumber[];
  standing(phoneNumberId: string): NumberStanding;
  /** The webhook URL the app is subscribed with, if any (Meta's app-level callback). */
  webhookUrl(): string | undefined;
  /** The WABA's override of the callback URL for `messages` webhooks, if set. */
  webhookOverride(wabaId: string): string | undefined;
  newFbtraceId(): string;
}

const PHONE_NUMBER_PATH = /^\/v\d+\.\d+\/([^/]+)\/?$/;
const SUBSCRIBED_APPS_PATH = /^\/v\d+\.\d+\/([^/]+)\/subscribed_apps\/?$/;

function fail(response: ServerResponse, error: MetaApiError, deps: AccountEndpointDeps): true {
  sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, deps.newFbtraceId()));
  return true;
}

/**
 * The Graph API reads an onboarding check makes: `GET /{phone_number_id}` (the number's name, quality, messaging
 * limit, throughput and webhook configuration) and `GET /{waba_id}/subscribed_apps` (the app subscribed to the WABA,
 * with its override callback URL when one is set). The token must be one of a number of that WABA. Returns false
 * for any other request.
 */
export function handleAccountRequest(request: IncomingMessage, response: ServerResponse, url: URL, deps: AccountEndpointDeps): boolean {
  if (request.method !== 'GET') return false;
  const subscribed = SUBSCRIBED_APPS_PATH.exec(url.pathname);
  const numberMatch = subscribed ? undefined : PHONE_NUMBER_PATH.exec(url.pathname);
  if (!subscribed && !numberMatch) return false;
  // GET /{id} of anything but a configured number (a media id) is the media endpoint's.
  if (numberMatch && !deps.phoneNumbers().some((phone) => phone.id === decodePathSegment(numberMatch[1] ?? ''))) return false;
  request.resume();
  const token = extractAccessToken(request, url);
  const id = decodePathSegment((subscribed ?? numberMatch)?.[1] ?? '');
  if (!token || !deps.phoneNumbers().some((phone) => phone.accessToken === token)) return fail(response, invalidAccessTokenError(), deps);

  if (subscribed) {
    const numbers = deps.phoneNumbers().filter((phone) => phone.wabaId === id);
    if (numbers.length === 0 || !numbers.some((phone) => phone.accessToken === token))
      return fail(response, unknownObjectError(id, 'GET'), deps);
    const callback = deps.webhookUrl();
    const override = deps.webhookOverride(id);
    const data =
      callback || override
        ? [
            {
              whatsapp_business_api_data: { id: '1000000000000001', name: 'Waygate (simulated app)', link: 'https://waygate.local' },
              ...(override ? { override_callback_uri: override } : {}),
            },
          ]
        : [];
    sendJson(response, 200, { data });
    return true;
  }
  const phone = deps.phoneNumbers().find((candidate) => candidate.id === id);
  if (!phone || phone.accessToken !== token) return fail(response, unknownObjectError(id, 'GET'), deps);
  const standing = deps.standing(phone.id);
  const callback = deps.webhookUrl();
  const override = deps.webhookOverride(phone.wabaId);
  sendJson(response, 200, {
    id: phone.id,
    display_phone_number: phone.displayPhoneNumber,
    verified_name: 'Simulated Business',
    code_verification_status: 'VERIFIED',
    quality_rating: standing.qualityRating,
    platform_type: 'CLOUD_API',
    status: 'CONNECTED',
    throughput: { level: standing.throughputLevel },
    whatsapp_business_manager_messaging_limit: standing.messagingLimit,
    ...(callback || override
      ? {
          webhook_configuration: {
            ...(callback ? { application: callback } : {}),
            ...(override ? { whatsapp_business_account: override } : {}),
          },
        }
      : {}),
  });
  return true;
}
