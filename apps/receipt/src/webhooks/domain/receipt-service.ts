import { isE164, messageIdFromCallbackData, type Clock } from '@waygate/domain';
import type { Tenant, TenantDirectory, WhatsAppPhoneNumber } from '@waygate/tenancy';
import { optOutRequestedBy, type PreferencePublisher } from './customer-preferences';
import { transferInboundMedia, type InboundMediaOutcome } from './inbound-media';
import type { InboundMessageRecord, InboundStore } from './inbound-store';
import type { MediaVault } from './media-vault';
import type { ReceiptStore, SentMessageRecord } from './receipt-store';
import { customerOf, opensServiceWindow, serviceWindowClosesAt } from './service-window';
import {
  parseWebhookPayload,
  type InboundContent,
  type InboundMediaType,
  type InboundMessage,
  type WebhookStatus,
  type WebhookUserPreference,
} from './webhook-payload';
import { RetryLaterError } from './retry-later-error';
import { parseTemplateChanges, type TemplateWebhookChange } from './template-webhook';
import type { WhatsAppCloudApi } from './whatsapp-cloud-api';

/** A webhook status resolved to a Waygate message, ready to announce. */
export interface ResolvedStatus {
  /** `wa:<wamid>:<status>`: Meta may deliver the same status many times; this de-duplicates them downstream. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  /** The recipient in E.164 form, when known (from the SENT event, else from Meta's `recipient_id`). */
  readonly recipient?: string;
  readonly status: WebhookStatus;
}

/** A resolved status with the message's trace (W3C traceparent), which its announcement joins. */
export interface StatusAnnouncement {
  readonly status: ResolvedStatus;
  readonly traceContext?: string;
}

export interface ResolvedStatusPublisher {
  /**
   * Announces statuses in the given order, pipelined: all are sent before any acknowledgement is awaited, and a
   * status is never stored after a later one of the same message (one that cannot be sent holds back the later ones
   * of its wamid). Resolves with one outcome per status, in order, once each is durable or failed.
   */
  publishAll(statuses: readonly StatusAnnouncement[]): Promise<PromiseSettledResult<void>[]>;
}

/** An inbound message, recorded, ready to announce. */
export interface InboundAnnouncement {
  /** `wa:in:<wamid>`: the de-duplication key downstream. */
  readonly eventId: string;
  readonly record: InboundMessageRecord;
  /** When the customer-service window closes after this message (unset for `system` notices, which open none). */
  readonly serviceWindowClosesAt?: Date;
}

export interface InboundMessagePublisher {
  /** Durable when it resolves. */
  publish(announcement: InboundAnnouncement): Promise<void>;
}

/** Announces Meta's template webhooks (TemplateEvent) to ingress's template catalog. */
export interface TemplateEventPublisher {
  /** Durable when it resolves; publishing the same change again is de-duplicated by its event id. */
  publish(change: TemplateWebhookChange, receivedAt: Date): Promise<void>;
}

/** What processing one webhook did, for logs (counts and reasons only, never content). */
export interface WebhookOutcome {
  published: number;
  held: number;
  ignored: number;
  inboundMessages: number;
  inboundRecorded: number;
  mediaUnavailable: number;
  /** Of those, media given up on after the last attempt still failed for a reason that might have passed. */
  mediaGivenUp: number;
  /** Template webhook changes announced (their WABA's tenant is homed here). */
  templateEvents: number;
  /** Marketing preference changes announced (stop keywords, opt-out quick replies, user_preferences). */
  preferences: number;
  skipped: string[];
}

/** Which processing of a webhook body this is (the consumer's delivery count against its bound). */
export interface ProcessingAttempt {
  /** 1 for the first. */
  readonly number: number;
  /**
   * No further attempt will follow: media that still cannot be fetched or stored for a reason that might pass is given
   * up on (the message is recorded without it, with the reason) rather than postponing the body again, so the text or
   * caption is never lost to a dead letter.
   */
  readonly last: boolean;
}

export interface ReceiptService {
  /**
   * Applies a verified webhook body: statuses are published (or held until their wamid is known), inbound messages
   * recorded (media fetched and stored first), their service windows extended, and each announced. Every step is
   * idempotent and keyed by Meta's ids, so a body processed again — after a failure part-way, or delivered twice —
   * has the effect of one processing. A part that fails does not stop the others: every status and message is
   * attempted, then the first failure is thrown — RetryLaterError only when every failure was a dependency that is
   * temporarily unavailable, else the other error (storage or NATS) — and the caller processes the whole body again
   * later (the parts already applied have no second effect). On the `last` attempt a transient media failure does not
   * postpone the body: the message is recorded without its media, with the reason (see {@link ProcessingAttempt}).
   */
  processWebhook(body: Uint8Array, attempt?: ProcessingAttempt): Promise<WebhookOutcome>;
  /** Learns a wamid from delivery-retry and releases statuses that arrived before it. */
  recordSentMessage(record: SentMessageRecord): Promise<number>;
}

const MEDIA_KINDS: ReadonlySet<string> = new Set<InboundMediaType>(['image', 'video', 'audio', 'document', 'sticker']);

function isMediaContent(content: InboundContent): content is Extract<InboundContent, { kind: InboundMediaType }> {
  return MEDIA_KINDS.has(content.kind);
}

/** The content as recorded and announced: without Meta's media download URL, which is short-lived and bearer-protected. */
/**
 * The wamid a message refers to: the one it replies to (`context.id`); else the one a reaction reacts to; else the
 * one an edit or a revoke (WhatsApp Business app coexistence: `edit.original_message_id`, `revoke.original_message_id`)
 * changes. Edits and revokes have no shape of their own here: they are kept whole as unknown content.
 */
export function referencedMessageIdOf(message: InboundMessage): string | undefined {
  if (message.contextMessageId) return message.contextMessageId;
  const content = message.content;
  if (content.kind === 'reaction') return content.messageId;
  if (content.kind === 'unknown' && (content.rawType === 'edit' || content.rawType === 'revoke')) {
    const change = content.raw[content.rawType];
    const original = change !== null && typeof change === 'object' ? (change as Record<string, unknown>).original_message_id : undefined;
    if (typeof original === 'string' && original.length > 0 && original.length <= 256) return original;
  }
  return undefined;
}

function recordedContent(content: InboundContent): InboundContent {
  if (!isMediaContent(content) || content.url === undefined) return content;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { url, ...rest } = content;
  return rest;
}

function withTrace(record: SentMessageRecord): { traceContext?: string } {
  return record.traceContext ? { traceContext: record.traceContext } : {};
}

function resolved(record: SentMessageRecord, status: WebhookStatus): ResolvedStatus {
  const recipient = record.recipient || (status.recipientId ? customerOf(status.recipientId) : '');
  return {
    eventId: `wa:${status.waMessageId}:${status.status.toLowerCase()}`,
    tenantId: record.tenantId,
    messageId: record.messageId,
    ...(recipient.startsWith('+') ? { recipient } : {}),
    status,
  };
}

export function createReceiptService(deps: {
  store: ReceiptStore;
  inboundStore: InboundStore;
  publisher: ResolvedStatusPublisher;
  inboundPublisher: InboundMessagePublisher;
  /** Template webhooks are ignored without it. */
  templatePublisher?: TemplateEventPublisher;
  /** Announces customers' marketing preference changes (CustomerPreferenceChanged) for ingress's opt-out list. */
  preferencePublisher: PreferencePublisher;
  cloudApi: WhatsAppCloudApi;
  vault: MediaVault;
  tenants: TenantDirectory;
  region: string;
  clock: Clock;
  /** Meta's account webhooks (quality, messaging limit, account updates); without it they are ignored. */
  accountWebhooks?: { apply(payload: unknown): Promise<number> };
}): ReceiptService {
  const { store, inboundStore, publisher, inboundPublisher, preferencePublisher, tenants, region, clock } = deps;

  /**
   * The tenant and number a change is about, if it may be applied here: the number is configured, homed in this
   * region, and belongs to the WABA whose entry carried it (that WABA's owner signed the webhook).
   */
  function localOwner(phoneNumberId: string, wabaId: string | undefined): { tenant: Tenant; phoneNumber: WhatsAppPhoneNumber } | undefined {
    const found = tenants.findPhoneNumber(phoneNumberId);
    if (!found || found.tenant.homeRegion !== region || found.tenant.whatsapp.wabaId !== wabaId) return undefined;
    return found;
  }

  /** Publishes statuses in order; throws the first failure once every outcome is in. */
  async function publishAll(statuses: readonly StatusAnnouncement[]): Promise<void> {
    if (statuses.length === 0) return;
    const failed = (await publisher.publishAll(statuses)).find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Publishes held statuses for a known wamid, then forgets them (publishing is idempotent, so a crash is harmless). */
  async function releaseHeld(record: SentMessageRecord): Promise<number> {
    const held = await store.listHeldStatuses(record.tenantId, record.waMessageId);
    await publishAll(held.map((status) => ({ status: resolved(record, status), ...withTrace(record) })));
    if (held.length > 0) await store.releaseHeldStatuses(record.tenantId, record.waMessageId);
    return held.length;
  }

  /**
   * A status for a wamid delivery-retry never reported still names its message when the send carried Waygate's
   * message id as `biz_opaque_callback_data`: the answer to that send was lost (delivery-retry crashed mid-call).
   * Learning the wamid here lets delivery-retry record the send instead of repeating it. The id is looked up only
   * within the tenant that signed the webhook.
   */
  async function recordFromCallbackData(tenantId: string, status: WebhookStatus): Promise<SentMessageRecord | undefined> {
    const messageId = messageIdFromCallbackData(status.bizOpaqueCallbackData);
    if (!messageId) return undefined;
    const record: SentMessageRecord = {
      tenantId,
      waMessageId: status.waMessageId,
      messageId,
      ...(status.recipientId ? { recipient: customerOf(status.recipientId) } : {}),
    };
    await store.recordSentMessage(record);
    await releaseHeld(record);
    return record;
  }

  /**
   * Resolves a status to its message and queues its announcement in `announcements` (published with the body's other
   * statuses, in the body's order); a status whose wamid is not known yet is held instead.
   */
  async function applyStatus(status: WebhookStatus, outcome: WebhookOutcome, announcements: StatusAnnouncement[]): Promise<void> {
    const owner = localOwner(status.phoneNumberId, status.wabaId)?.tenant;
    // Another region's (or an unknown) number: nothing about it may be stored here.
    if (!owner) {
      outcome.ignored++;
      return;
    }
    const record = (await store.findSentMessage(owner.id, status.waMessageId)) ?? (await recordFromCallbackData(owner.id, status));
    if (record) {
      announcements.push({ status: resolved(record, status), ...withTrace(record) });
      return;
    }
    await store.holdStatus(owner.id, status);
    outcome.held++;
    // The wamid may have been recorded between the lookup and the hold; checking again closes that race.
    const late = await store.findSentMessage(owner.id, status.waMessageId);
    if (late) outcome.published += await releaseHeld(late);
  }

  async function applyInbound(message: InboundMessage, outcome: WebhookOutcome, attempt: ProcessingAttempt): Promise<void> {
    const owner = localOwner(message.phoneNumberId, message.wabaId);
    if (!owner) {
      outcome.ignored++;
      return;
    }
    const tenantId = owner.tenant.id;
    // Recorded before (a duplicate, or a redelivery after a later step failed): keep it, never fetch its media again.
    let record = await inboundStore.findInboundMessage(tenantId, message.messageId);
    if (!record) {
      let media: InboundMediaOutcome | undefined;
      if (isMediaContent(message.content)) {
        // Under the customer's own key in media-store, so erasing the customer can shred it.
        const customer = customerOf(message.from);
        media = await transferInboundMedia(deps, {
          tenantId,
          accessToken: owner.phoneNumber.accessToken,
          media: message.content,
          ...(isE164(customer) ? { customer } : {}),
        }).catch((error: unknown): InboundMediaOutcome => {
          // Bounded: on the last attempt the message is recorded without the media rather than dead-lettered whole.
          if (!(error instanceof RetryLaterError) || !attempt.last) throw error;
          outcome.mediaGivenUp++;
          return { kind: 'unavailable', reason: `${error.reason} (gave up after ${attempt.number} attempts)` };
        });
        if (media.kind === 'unavailable') outcome.mediaUnavailable++;
      }
      const referenced = referencedMessageIdOf(message);
      record = await inboundStore.recordInboundMessage({
        tenantId,
        phoneNumberId: message.phoneNumberId,
        customer: customerOf(message.from),
        waMessageId: message.messageId,
        occurredAt: message.timestamp,
        type: message.type,
        content: recordedContent(message.content),
        ...(referenced ? { contextWaMessageId: referenced } : {}),
        ...(message.profileName ? { profileName: message.profileName } : {}),
        ...(media?.kind === 'stored' ? { media: media.media } : {}),
        ...(media?.kind === 'unavailable' ? { mediaUnavailable: media.reason } : {}),
        receivedAt: clock.now(),
      });
    }
    const window = opensServiceWindow(record.type)
      ? await inboundStore.extendServiceWindow(
          { tenantId, phoneNumberId: record.phoneNumberId, customer: record.customer },
          record.occurredAt,
        )
      : undefined;
    await inboundPublisher.publish({
      eventId: `wa:in:${record.waMessageId}`,
      record,
      ...(window ? { serviceWindowClosesAt: serviceWindowClosesAt(window) } : {}),
    });
    outcome.inboundRecorded++;
    // A stop keyword or an opt-out quick reply: announced after the message itself, keyed by its wamid.
    const optOut = record.customer.startsWith('+') ? optOutRequestedBy(record.content, owner.tenant) : undefined;
    if (optOut) {
      await preferencePublisher.publish({
        eventId: `wa:in:${record.waMessageId}:opt-out`,
        tenantId,
        phoneNumberId: record.phoneNumberId,
        customer: record.customer,
        waId: record.customer.slice(1),
        preference: 'stopped',
        source: optOut,
        occurredAt: record.occurredAt,
      });
      outcome.preferences++;
    }
  }

  /** Meta's user_preferences change for marketing messages: the customer stopped or resumed them. */
  async function applyUserPreference(change: WebhookUserPreference, outcome: WebhookOutcome): Promise<void> {
    const owner = localOwner(change.phoneNumberId, change.wabaId);
    if (!owner || change.category !== 'marketing_messages') {
      outcome.ignored++;
      return;
    }
    const customer = customerOf(change.waId);
    if (!customer.startsWith('+')) {
      outcome.ignored++;
      return;
    }
    await preferencePublisher.publish({
      // Meta may deliver the change more than once; the same change has the same id.
      eventId: `wa:pref:${change.phoneNumberId}:${change.waId}:${change.value}:${change.occurredAt.getTime() / 1000}`,
      tenantId: owner.tenant.id,
      phoneNumberId: change.phoneNumberId,
      customer,
      waId: change.waId,
      preference: change.value === 'stop' ? 'stopped' : 'resumed',
      source: 'user-preferences',
      occurredAt: change.occurredAt,
    });
    outcome.preferences++;
  }

  /** Announces a template change when its WABA belongs to a tenant homed here (templates carry no customer data). */
  async function announceTemplate(change: TemplateWebhookChange, outcome: WebhookOutcome): Promise<void> {
    const owned = tenants.homedIn(region).some((tenant) => tenant.whatsapp.wabaId === change.wabaId);
    if (!owned || !deps.templatePublisher) {
      outcome.ignored++;
      return;
    }
    await deps.templatePublisher.publish(change, clock.now());
    outcome.templateEvents++;
  }

  return {
    async processWebhook(body, attempt = { number: 1, last: false }) {
      const json: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
      const parsed = parseWebhookPayload(json);
      const templateChanges = parseTemplateChanges(json);
      const outcome: WebhookOutcome = {
        published: 0,
        held: 0,
        ignored: 0,
        inboundMessages: parsed.inboundMessageCount,
        inboundRecorded: 0,
        mediaUnavailable: 0,
        mediaGivenUp: 0,
        templateEvents: 0,
        preferences: 0,
        // Template changes are not `messages` changes: the messages parser's reason for skipping them is noise.
        skipped: templateChanges.length > 0 ? parsed.skipped.filter((reason) => !reason.endsWith('not a messages change')) : parsed.skipped,
      };
      // One part that fails (a dependency, or a fault only it triggers) does not keep the others from being applied.
      const failures: unknown[] = [];
      const announcements: StatusAnnouncement[] = [];
      for (const status of parsed.statuses)
        await applyStatus(status, outcome, announcements).catch((error: unknown) => failures.push(error));
      // Every resolved status of the body at once: sent in the body's order, the acknowledgements awaited together.
      if (announcements.length > 0) {
        for (const result of await publisher.publishAll(announcements)) {
          if (result.status === 'fulfilled') outcome.published++;
          else failures.push(result.reason);
        }
      }
      for (const message of parsed.inboundMessages)
        await applyInbound(message, outcome, attempt).catch((error: unknown) => failures.push(error));
      for (const change of parsed.userPreferences)
        await applyUserPreference(change, outcome).catch((error: unknown) => failures.push(error));
      if (deps.accountWebhooks) await deps.accountWebhooks.apply(json).catch((error: unknown) => failures.push(error));
      for (const change of templateChanges) await announceTemplate(change, outcome).catch((error: unknown) => failures.push(error));
      if (failures.length > 0) throw failures.find((error) => !(error instanceof RetryLaterError)) ?? failures[0];
      return outcome;
    },

    async recordSentMessage(record) {
      // Only this region's tenants' messages are sent from here; anything else is not stored.
      if (tenants.get(record.tenantId)?.homeRegion !== region) return 0;
      await store.recordSentMessage(record);
      return releaseHeld(record);
    },
  };
}
