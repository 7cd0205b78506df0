import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleMessagesRequest, matchMessagesPath, type MessagesEndpointDependencies } from './cloud-api/messages-endpoint';
import { invalidParameterValueError, toMetaErrorResponseBody, unknownPathError } from './cloud-api/meta-errors';
import { parseSendFailureInjection, SendFailureInjector } from './cloud-api/send-failure-injector';
import { handleTemplateRequest, type TemplateEndpointDeps } from './cloud-api/template-endpoint';
import { resolveSimulatorOptions, type ResolvedSimulatorOptions } from './config/simulator-options';
import { CONTROL_API_PREFIX, handleControlRequest, type ControlApiTarget } from './control/control-api';
import { sendJson } from './http/http-body';
import { createIdSource, type IdSource } from './ids';
import { handleMediaRequest, type MediaEndpointDeps } from './media/media-endpoints';
import {
  applyToStanding,
  buildAccountWebhookPayload,
  defaultAccountValue,
  handleAccountRequest,
  INITIAL_STANDING,
  type AccountEndpointDeps,
  type AccountWebhookInput,
  type NumberStanding,
} from './cloud-api/account-endpoints';
import { MediaDownloadFaults, parseMediaDownloadFaultRule, type MediaDownloadFaultRule } from './media/media-download-faults';
import { MediaLibrary } from './media/media-library';
import { CustomerServiceWindows } from './messaging/customer-service-windows';
import { assertWaId, parseRecipientBehaviour, RecipientDirectory } from './messaging/recipient-directory';
import { DEFAULT_THROUGHPUT_MPS, SendRateLimits } from './messaging/send-rate-limits';
import { StatusLifecycle } from './messaging/status-lifecycle';
import { TemplateRegistry, templateIdOf } from './messaging/template-registry';
import { toWaId } from './phone-numbers';
import { SimulatorInputError } from './simulator-input-error';
import { computeWebhookSignature } from './webhooks/webhook-signature';
import { Scheduler } from './time/scheduler';
import { SimulatedClock, toUnixSeconds } from './time/simulated-clock';
import type {
  InboundMessageRecord,
  ReadMark,
  RecipientBehaviour,
  SendFailureInjection,
  SentMessage,
  SimulatorEvent,
  SimulatorOptions,
  SimulatorPhoneNumber,
  TemplateStatusChange,
  WebhookDelivery,
  WhatsAppSimulator,
} from './types';
import { buildInboundMessage, parseInboundMessageInput, type InboundMessageInput } from './webhooks/inbound-payloads';
import { buildStatusObject, type StatusUpdate } from './webhooks/status-payloads';
import { assertWebhookUrl, verifyWebhookSubscription, type HandshakeResult } from './webhooks/subscription-handshake';
import { WebhookDispatcher, type WebhookEvent } from './webhooks/webhook-dispatcher';
import type { WebhookBusinessNumber } from './webhooks/webhook-envelope';
import { parseWebhookFaultRule, WebhookFaultInjector, type WebhookFaultRule } from './webhooks/webhook-faults';

// Loopback only: the simulator accepts any caller, so it must never be reachable from outside.
const LISTEN_HOST = '127.0.0.1';

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LISTEN_HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections (and requests held by an injected timeout) would otherwise hold close() open.
    server.closeAllConnections();
  });
}

function webhookNumber(phone: SimulatorPhoneNumber): WebhookBusinessNumber {
  return { wabaId: phone.wabaId, phoneNumberId: phone.id, displayPhoneNumber: phone.displayPhoneNumber };
}

/** All state of one running simulator; `startSimulator` wires it to an HTTP server. */
class SimulatorRuntime implements ControlApiTarget {
  readonly clock: SimulatedClock;
  private readonly scheduler: Scheduler;
  private readonly ids: IdSource;
  private readonly phonesById: ReadonlyMap<string, SimulatorPhoneNumber & { throughputMps: number }>;
  private readonly templates: TemplateRegistry;
  private readonly recipients = new RecipientDirectory();
  private readonly windows = new CustomerServiceWindows();
  private readonly rateLimits: SendRateLimits;
  private readonly failures: SendFailureInjector;
  private readonly faults: WebhookFaultInjector;
  private readonly media: MediaLibrary;
  private readonly downloadFaults = new MediaDownloadFaults();
  private readonly lifecycle: StatusLifecycle;
  private readonly dispatcher: WebhookDispatcher;
  readonly mediaApi: MediaEndpointDeps;
  readonly templatesApi: TemplateEndpointDeps;
  private readonly shutdown = new AbortController();
  private readonly pendingWork = new Set<Promise<void>>();
  private sent: SentMessage[] = [];
  private deliveries: WebhookDelivery[] = [];
  private marks: ReadMark[] = [];
  private inbound: InboundMessageRecord[] = [];
  private webhookUrl: string | undefined;
  /** Meta's per-WABA override of the callback URL (`override_callback_uri`) for the `messages` field. */
  private readonly webhookOverrides = new Map<string, string>();
  private readonly standings = new Map<string, NumberStanding>();
  private readonly appSecretFor: (wabaId: string) => string;
  baseUrl = '';

  readonly accountApi: AccountEndpointDeps = {
    phoneNumbers: () => [...this.phonesById.values()],
    standing: (phoneNumberId) => this.standings.get(phoneNumberId) ?? { ...INITIAL_STANDING },
    webhookUrl: () => this.webhookUrl,
    webhookOverride: (wabaId) => this.webhookOverrides.get(wabaId),
    newFbtraceId: () => this.messagesApi.newFbtraceId(),
  };

  /**
   * POSTs one of Meta's account webhooks (quality, capability, account update) for a number's WABA to the webhook URL,
   * signed like every webhook, once (no retries), and answers with the receiver's status. The number's standing
   * (GET /{phone_number_id}) follows a quality update.
   */
  async emitAccountWebhook(input: AccountWebhookInput): Promise<{ status: number; body: unknown }> {
    const phone = input.phoneNumberId === undefined ? [...this.phonesById.values()][0] : this.phonesById.get(input.phoneNumberId);
    if (!phone) throw new SimulatorInputError(`unknown phoneNumberId ${input.phoneNumberId ?? ''}`);
    const url = this.webhookUrl;
    if (!url) throw new SimulatorInputError('no webhook URL is set (subscribe first)');
    const value = defaultAccountValue(input.field, phone, input.value);
    const payload = buildAccountWebhookPayload(input.field, phone.wabaId, value, this.clock.nowMs());
    const body = JSON.stringify(payload);
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': computeWebhookSignature(this.appSecretFor(phone.wabaId), body),
      },
      body,
      signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(5000)]),
    });
    await answer.arrayBuffer();
    if (answer.ok) this.standings.set(phone.id, applyToStanding(this.accountApi.standing(phone.id), input.field, value));
    return { status: answer.status, body: payload };
  }

  constructor(
    config: ResolvedSimulatorOptions,
    private readonly onEvent: SimulatorOptions['onEvent'],
  ) {
    this.clock = new SimulatedClock({
      scale: config.timeScale,
      ...(config.startTimeMs === undefined ? {} : { startMs: config.startTimeMs }),
    });
    this.scheduler = new Scheduler(this.clock);
    this.appSecretFor = (wabaId) => config.appSecretsByWaba.get(wabaId) ?? config.appSecret;
    this.ids = createIdSource(config.seed);
    this.phonesById = new Map(config.phoneNumbers.map((phone) => [phone.id, { ...phone }]));
    this.templates = new TemplateRegistry(config.templates);
    this.rateLimits = new SendRateLimits(config.pairRateLimit);
    this.failures = new SendFailureInjector(() => this.ids.random());
    this.faults = new WebhookFaultInjector(() => this.ids.random());
    this.media = new MediaLibrary({ clock: this.clock, newMediaId: () => this.ids.mediaId() });
    this.mediaApi = {
      library: this.media,
      findPhoneNumber: (id) => this.phonesById.get(id),
      phoneNumbersForToken: (token) => [...this.phonesById.values()].filter((phone) => phone.accessToken === token),
      newFbtraceId: () => this.ids.fbtraceId(),
      baseUrl: () => this.baseUrl,
      downloadFaults: this.downloadFaults,
      onDownloadCutOff: (media, afterBytes) => this.emit({ type: 'media_download_cut_off', mediaId: media.id, afterBytes }),
      onUploaded: (media) =>
        this.emit({
          type: 'media_uploaded',
          mediaId: media.id,
          phoneNumberId: media.phoneNumberId,
          mimeType: media.mimeType,
          fileSize: media.fileSize,
        }),
    };
    this.templatesApi = {
      metaTemplates: (wabaId) => this.templates.metaTemplates(wabaId),
      phoneNumbersForToken: (token) => [...this.phonesById.values()].filter((phone) => phone.accessToken === token),
      newFbtraceId: () => this.ids.fbtraceId(),
      baseUrl: () => this.baseUrl,
    };
    this.webhookUrl = config.webhookUrl;
    this.dispatcher = new WebhookDispatcher({
      clock: this.clock,
      scheduler: this.scheduler,
      appSecretFor: (wabaId) => this.appSecretFor(wabaId),
      resolveUrl: (wabaId) => this.webhookOverrides.get(wabaId) ?? this.webhookUrl,
      onAttempt: (delivery) => this.recordDelivery(delivery),
      onAccepted: (deliveryId, events) => this.maybeDuplicate(deliveryId, events),
      retryPolicy: config.webhookRetry,
      batchSize: config.webhookBatchSize,
    });
    this.lifecycle = new StatusLifecycle({
      clock: this.clock,
      scheduler: this.scheduler,
      recipients: this.recipients,
      windows: this.windows,
      faults: this.faults,
      resolveMedia: (phoneNumberId, media) => this.media.resolveForSend(phoneNumberId, media, this.shutdown.signal),
      enforceCustomerServiceWindow: config.enforceCustomerServiceWindow,
      statusDelayMs: config.statusDelayMs,
      publish: (phone, update) => this.publishStatus(phone, update),
    });
  }

  readonly messagesApi: MessagesEndpointDependencies = {
    findPhoneNumber: (id) => this.phonesById.get(id),
    isKnownAccessToken: (token) => [...this.phonesById.values()].some((phone) => phone.accessToken === token),
    newFbtraceId: () => this.ids.fbtraceId(),
    checkTemplate: (phone, request) => {
      const result = this.templates.check(phone.wabaId, request.template as NonNullable<typeof request.template>);
      return result.ok ? { category: result.template.category } : { error: result.error };
    },
    takeInjectedFailure: (phoneNumberId) => this.failures.takeNext(phoneNumberId),
    admitSend: (phone, waId) => this.rateLimits.admit(phone.id, phone.throughputMps ?? DEFAULT_THROUGHPUT_MPS, waId, this.clock.nowMs()),
    acceptMessage: (phone, request, templateCategory) => {
      const message: SentMessage = {
        wamid: this.ids.wamid(request.waId),
        phoneNumberId: phone.id,
        to: request.to,
        waId: request.waId,
        type: request.type,
        body: request.body,
        at: this.nowIso(),
      };
      this.sent.push(message);
      this.emit({ type: 'message_accepted', wamid: message.wamid, phoneNumberId: phone.id, waId: message.waId, messageType: request.type });
      const header = request.template?.header;
      const media = request.media ?? (header !== undefined && 'media' in header ? header.media : undefined);
      return {
        message,
        startDelivery: () =>
          this.track(
            this.lifecycle.begin({
              wamid: message.wamid,
              phone,
              waId: message.waId,
              ...(templateCategory === undefined ? {} : { templateCategory }),
              ...(media === undefined ? {} : { media }),
              ...(request.type === 'reaction' ? { sentOnly: true } : {}),
              ...(typeof request.body.biz_opaque_callback_data === 'string'
                ? { bizOpaqueCallbackData: request.body.biz_opaque_callback_data }
                : {}),
            }),
          ),
      };
    },
    markRead: (phone, request) => {
      const known = this.inbound.some((message) => message.messageId === request.messageId && message.phoneNumberId === phone.id);
      if (!known) return invalidParameterValueError(`Param message_id ${request.messageId} is not a message this number received.`);
      this.marks.push({
        phoneNumberId: phone.id,
        messageId: request.messageId,
        typingIndicator: request.typingIndicator,
        at: this.nowIso(),
      });
      this.emit({ type: 'marked_read', messageId: request.messageId, phoneNumberId: phone.id });
      return undefined;
    },
    onRejected: (phoneNumberId, error) =>
      this.emit({ type: 'send_rejected', phoneNumberId, httpStatus: error.httpStatus, code: error.code }),
    onFailureInjected: (phoneNumberId, failure) =>
      this.emit({
        type: 'send_failure_injected',
        phoneNumberId,
        mode: failure.mode ?? 'error',
        ...(failure.code === undefined ? {} : { code: failure.code }),
      }),
  };

  setWebhookUrl(url: string): void {
    assertWebhookUrl(url);
    this.webhookUrl = url;
    this.emit({ type: 'webhook_url_changed', url });
  }

  setRecipient(waId: string, behaviour: RecipientBehaviour): void {
    assertWaId(waId);
    const state = this.recipients.update(waId, parseRecipientBehaviour(behaviour));
    this.emit({ type: 'recipient_updated', waId, mode: state.mode, readReceipts: state.readReceipts });
    if (state.mode === 'online') this.lifecycle.resumeHeld(waId);
  }

  injectSendFailures(failure: SendFailureInjection): void {
    const checked = parseSendFailureInjection(failure);
    this.failures.add(checked);
    this.emit({
      type: 'failures_injected',
      mode: checked.mode ?? 'error',
      ...(checked.count === undefined ? {} : { count: checked.count }),
      ...(checked.httpStatus === undefined ? {} : { httpStatus: checked.httpStatus }),
      ...(checked.code === undefined ? {} : { code: checked.code }),
    });
  }

  clearSendFailures(): void {
    this.failures.clear();
  }

  injectWebhookFaults(rule: WebhookFaultRule): void {
    const checked = parseWebhookFaultRule(rule);
    this.faults.add(checked);
    this.emit({ type: 'webhook_faults_injected', fault: checked.fault, ...(checked.count === undefined ? {} : { count: checked.count }) });
  }

  clearWebhookFaults(): void {
    this.faults.clear();
  }

  injectMediaDownloadFaults(rule: MediaDownloadFaultRule): void {
    const checked = parseMediaDownloadFaultRule(rule);
    this.downloadFaults.add(checked);
    this.emit({
      type: 'media_download_faults_injected',
      ...(checked.mediaId === undefined ? {} : { mediaId: checked.mediaId }),
      ...(checked.count === undefined ? {} : { count: checked.count }),
    });
  }

  clearMediaDownloadFaults(): void {
    this.downloadFaults.clear();
  }

  sendInbound(input: InboundMessageInput, phoneNumberId?: string): { messageId: string; mediaId?: string } {
    const message = parseInboundMessageInput(input);
    const phone = phoneNumberId === undefined ? [...this.phonesById.values()][0] : this.phonesById.get(phoneNumberId);
    if (phone === undefined) throw new SimulatorInputError(`unknown phone number id ${String(phoneNumberId)}`);
    const nowMs = this.clock.nowMs();
    const stored =
      'media' in message
        ? this.media.storeInbound({
            phoneNumberId: phone.id,
            mimeType: message.media.mimeType,
            bytes: Buffer.from(message.media.base64, 'base64'),
            ...(message.media.filename === undefined ? {} : { filename: message.media.filename }),
          })
        : undefined;
    const messageId = this.ids.wamid(message.from);
    const contextMessageId = 'contextMessageId' in message ? message.contextMessageId : undefined;
    const built = buildInboundMessage(message, {
      messageId,
      timestampSec: toUnixSeconds(nowMs),
      ...(stored === undefined
        ? {}
        : {
            media: {
              id: stored.id,
              mimeType: stored.mimeType,
              sha256: stored.sha256,
              // Meta now includes a (short-lived, token-protected) download URL on inbound media.
              url: this.media.downloadUrl(stored, this.baseUrl),
              ...(stored.filename === undefined ? {} : { filename: stored.filename }),
            },
          }),
      ...(contextMessageId === undefined ? {} : { contextFrom: toWaId(phone.displayPhoneNumber) }),
    });
    this.windows.open(phone.id, message.from, nowMs);
    this.inbound.push({
      messageId,
      phoneNumberId: phone.id,
      from: message.from,
      type: message.type,
      ...(stored === undefined ? {} : { mediaId: stored.id }),
      at: new Date(nowMs).toISOString(),
    });
    this.emit({ type: 'inbound_message', messageId, phoneNumberId: phone.id, waId: message.from, messageType: message.type });
    // A customer's messages reach the business in the order they were written.
    this.dispatcher.enqueue({
      number: webhookNumber(phone),
      orderingKey: `inbound:${phone.id}:${message.from}`,
      waId: message.from,
      items: { contacts: [built.contact], messages: [built.message] },
    });
    return { messageId, ...(stored === undefined ? {} : { mediaId: stored.id }) };
  }

  setTemplateStatus(change: TemplateStatusChange): { templateId: string } {
    if (typeof change !== 'object' || change === null) throw new SimulatorInputError('give name, language and status');
    const phones = [...this.phonesById.values()];
    const wabaId = change.wabaId ?? phones[0]?.wabaId ?? '';
    const phone = phones.find((candidate) => candidate.wabaId === wabaId);
    if (phone === undefined) throw new SimulatorInputError(`unknown WABA ${wabaId}`);
    const { name, language, status } = change;
    if (typeof name !== 'string' || typeof language !== 'string' || typeof status !== 'string') {
      throw new SimulatorInputError('name, language and status must be strings');
    }
    const template = this.templates.setStatus(wabaId, name, language, status);
    const templateId = templateIdOf(template);
    this.emit({ type: 'template_status_changed', wabaId, templateId, status });
    // Meta's message_template_status_update: the template id as a number, its name, language and the new status.
    this.dispatcher.enqueue({
      number: webhookNumber(phone),
      orderingKey: `template:${wabaId}:${templateId}`,
      waId: '',
      items: {
        accountChanges: [
          {
            field: 'message_template_status_update',
            value: {
              event: status,
              message_template_id: Number(templateId),
              message_template_name: template.name,
              message_template_language: template.language,
              reason: typeof change.reason === 'string' ? change.reason : 'NONE',
              message_template_category: template.category,
            },
          },
        ],
      },
    });
    return { templateId };
  }

  sendUserPreference(change: { from: string; value: 'stop' | 'resume' }, phoneNumberId?: string): void {
    assertWaId(change.from);
    if (change.value !== 'stop' && change.value !== 'resume') throw new SimulatorInputError('value must be "stop" or "resume"');
    const phone = phoneNumberId === undefined ? [...this.phonesById.values()][0] : this.phonesById.get(phoneNumberId);
    if (phone === undefined) throw new SimulatorInputError(`unknown phone number id ${String(phoneNumberId)}`);
    this.emit({ type: 'user_preference', phoneNumberId: phone.id, waId: change.from, value: change.value });
    this.dispatcher.enqueue({
      number: webhookNumber(phone),
      // In order with the customer's messages (a STOP text and the preference it causes, say).
      orderingKey: `inbound:${phone.id}:${change.from}`,
      waId: change.from,
      items: {
        userPreferences: [
          {
            wa_id: change.from,
            detail: change.value === 'stop' ? 'User requested to stop marketing messages' : 'User requested to resume marketing messages',
            category: 'marketing_messages',
            value: change.value,
            timestamp: String(toUnixSeconds(this.clock.nowMs())),
          },
        ],
      },
    });
  }

  now(): number {
    return this.clock.nowMs();
  }

  async advanceTime(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new SimulatorInputError('ms must be a number >= 0');
    await this.scheduler.advance(ms);
    this.emit({ type: 'time_changed', now: this.nowIso(), scale: this.clock.scale });
  }

  setTimeScale(scale: number): void {
    try {
      this.clock.setScale(scale);
    } catch (error) {
      throw new SimulatorInputError((error as Error).message);
    }
    this.scheduler.rescheduled();
    this.emit({ type: 'time_changed', now: this.nowIso(), scale: this.clock.scale });
  }

  clockState(): { now: string; nowMs: number; scale: number } {
    return { now: this.nowIso(), nowMs: this.clock.nowMs(), scale: this.clock.scale };
  }

  sentMessages(): SentMessage[] {
    return structuredClone(this.sent);
  }

  readMarks(): ReadMark[] {
    return structuredClone(this.marks);
  }

  inboundMessages(): InboundMessageRecord[] {
    return structuredClone(this.inbound);
  }

  webhookDeliveries(): WebhookDelivery[] {
    return structuredClone(this.deliveries);
  }

  /**
   * Meta's subscription handshake, then the app's callback URL; with `wabaId`, that WABA's override URL instead (as
   * `POST /{waba-id}/subscribed_apps` with `override_callback_uri` does): its `messages` webhooks go there.
   */
  async subscribeWebhook(url: string, verifyToken: string, wabaId?: string): Promise<HandshakeResult> {
    assertWebhookUrl(url);
    if (wabaId !== undefined && ![...this.phonesById.values()].some((phone) => phone.wabaId === wabaId)) {
      throw new SimulatorInputError(`wabaId ${wabaId} is not a configured WABA`);
    }
    const result = await verifyWebhookSubscription(url, verifyToken, this.shutdown.signal);
    if (!result.ok) return result;
    if (wabaId === undefined) this.setWebhookUrl(url);
    else {
      this.webhookOverrides.set(wabaId, url);
      this.emit({ type: 'webhook_url_changed', url, wabaId });
    }
    return result;
  }

  hostMedia(link: string, mimeType: string, bytes: Uint8Array): void {
    this.media.hostLink(link, mimeType, bytes);
  }

  async reset(): Promise<void> {
    this.scheduler.clear();
    this.dispatcher.reset();
    // Work still settling (a media fetch before `sent`) may schedule or enqueue once more; drop that too.
    await Promise.allSettled([...this.pendingWork]);
    this.scheduler.clear();
    this.dispatcher.reset();
    this.sent = [];
    this.deliveries = [];
    this.marks = [];
    this.inbound = [];
    this.recipients.clear();
    this.windows.clear();
    this.rateLimits.clear();
    this.failures.clear();
    this.faults.clear();
    this.downloadFaults.clear();
    this.media.clear();
    this.templates.resetStatuses();
    this.lifecycle.clear();
    this.emit({ type: 'reset' });
  }

  /** Cancels timers, aborts handshakes and webhook requests, and waits for running work to settle. */
  async stop(): Promise<void> {
    this.shutdown.abort();
    await this.scheduler.stop();
    await Promise.allSettled([...this.pendingWork]);
    await this.dispatcher.stop();
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined);
    this.pendingWork.add(tracked);
    void tracked.finally(() => this.pendingWork.delete(tracked));
  }

  private publishStatus(phone: SimulatorPhoneNumber, update: StatusUpdate): void {
    this.emit({
      type: 'status_emitted',
      wamid: update.wamid,
      status: update.status,
      waId: update.recipientId,
      ...(update.status === 'failed' && update.errors[0] !== undefined ? { errorCode: update.errors[0].code } : {}),
    });
    const event: WebhookEvent = {
      number: webhookNumber(phone),
      orderingKey: update.wamid,
      waId: update.recipientId,
      items: { statuses: [buildStatusObject(update)] },
    };
    const delay = this.faults.take('delay', update.recipientId);
    if (delay?.delayMs !== undefined) this.scheduler.schedule(() => this.dispatcher.enqueue(event), delay.delayMs);
    else this.dispatcher.enqueue(event);
  }

  /** An injected `duplicate` re-sends an accepted status in a POST of its own. */
  private maybeDuplicate(deliveryId: string, events: readonly WebhookEvent[]): void {
    for (const event of events) {
      if (event.duplicateOf !== undefined || event.items.statuses === undefined) continue;
      if (this.faults.take('duplicate', event.waId) !== undefined) this.dispatcher.enqueue({ ...event, duplicateOf: deliveryId });
    }
  }

  private recordDelivery(delivery: WebhookDelivery): void {
    this.deliveries.push(delivery);
    const { id, url, attempt, statuses, messages, responseStatus, error, gaveUp } = delivery;
    this.emit({
      type: 'webhook_attempt',
      deliveryId: id,
      url,
      attempt,
      statuses,
      messageCount: messages.length,
      ...(responseStatus === undefined ? {} : { responseStatus }),
      ...(error === undefined ? {} : { error }),
      ...(gaveUp === undefined ? {} : { gaveUp }),
    });
  }

  private nowIso(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  private emit(event: SimulatorEvent): void {
    try {
      this.onEvent?.(event);
    } catch {
      // An observer's bug must not break the simulated API.
    }
  }
}

function createRequestListener(runtime: SimulatorRuntime): http.RequestListener {
  return (request, response) => {
    const url = new URL(request.url ?? '/', `http://${LISTEN_HOST}`);
    const handled = url.pathname.startsWith(CONTROL_API_PREFIX)
      ? handleControlRequest(request, response, url.pathname, runtime)
      : routeGraphApiRequest(request, response, url, runtime);
    handled.catch(() => {
      if (!response.headersSent) sendJson(response, 500, { error: 'internal simulator error' });
      else response.destroy();
    });
  };
}

async function routeGraphApiRequest(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: URL,
  runtime: SimulatorRuntime,
): Promise<void> {
  const phoneNumberId = matchMessagesPath(url.pathname);
  if (phoneNumberId !== undefined) {
    await handleMessagesRequest(request, response, url, phoneNumberId, runtime.messagesApi);
    return;
  }
  if (handleAccountRequest(request, response, url, runtime.accountApi)) return;
  if (handleTemplateRequest(request, response, url, runtime.templatesApi)) return;
  if (await handleMediaRequest(request, response, url, runtime.mediaApi)) return;
  request.resume();
  const error = unknownPathError(url.pathname);
  sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, runtime.messagesApi.newFbtraceId()));
}

/**
 * Starts a WhatsApp Cloud API simulator on 127.0.0.1. Throws {@link SimulatorInputError} for invalid options.
 *
 * @example
 * const sim = await startSimulator({ appSecret: 's', phoneNumbers: [{ id: '1', displayPhoneNumber: '15550001111', accessToken: 't', wabaId: 'w' }] });
 * sim.sendInbound({ type: 'text', from: '4915112345678', text: 'Hi' }); // opens the customer service window
 * await fetch(`${sim.url}/v23.0/1/messages`, { method: 'POST', headers: { Authorization: 'Bearer t' }, body: JSON.stringify({...}) });
 * await sim.stop();
 */
export async function startSimulator(options: SimulatorOptions): Promise<WhatsAppSimulator> {
  const config = resolveSimulatorOptions(options);
  const runtime = new SimulatorRuntime(config, options.onEvent);
  const server = http.createServer(createRequestListener(runtime));
  const port = await listen(server, config.port);
  runtime.baseUrl = `http://${LISTEN_HOST}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    url: runtime.baseUrl,
    setWebhookUrl: (url) => runtime.setWebhookUrl(url),
    setRecipient: (waId, behaviour) => runtime.setRecipient(waId, behaviour),
    injectSendFailures: (failure) => runtime.injectSendFailures(failure),
    clearSendFailures: () => runtime.clearSendFailures(),
    injectWebhookFaults: (rule) => runtime.injectWebhookFaults(rule),
    clearWebhookFaults: () => runtime.clearWebhookFaults(),
    injectMediaDownloadFaults: (rule) => runtime.injectMediaDownloadFaults(rule),
    clearMediaDownloadFaults: () => runtime.clearMediaDownloadFaults(),
    sendInbound: (message, phoneNumberId) => runtime.sendInbound(message, phoneNumberId),
    hostMedia: (link, mimeType, bytes) => runtime.hostMedia(link, mimeType, bytes),
    setTemplateStatus: (change) => runtime.setTemplateStatus(change),
    sendUserPreference: (change, phoneNumberId) => runtime.sendUserPreference(change, phoneNumberId),
    now: () => runtime.now(),
    advanceTime: (ms) => runtime.advanceTime(ms),
    setTimeScale: (scale) => runtime.setTimeScale(scale),
    sentMessages: () => runtime.sentMessages(),
    readMarks: () => runtime.readMarks(),
    inboundMessages: () => runtime.inboundMessages(),
    webhookDeliveries: () => runtime.webhookDeliveries(),
    reset: () => runtime.reset(),
    stop: () => {
      stopping ??= Promise.all([runtime.stop(), closeServer(server)]).then(() => undefined);
      return stopping;
    },
  };
}
