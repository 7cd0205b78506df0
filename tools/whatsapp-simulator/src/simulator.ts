import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from './clock';
import { handleMessagesRequest, matchMessagesPath, type CloudApiDependencies } from './cloud-api';
import { CONTROL_API_PREFIX, handleControlRequest, type ControlApiTarget } from './control-api';
import { ConversationTracker } from './conversation-tracker';
import { FailureInjector, parseSendFailureInjection } from './failure-injector';
import { sendJson } from './http-body';
import { createIdSource, type IdSource } from './ids';
import { toMetaErrorResponseBody, unknownPathError } from './meta-errors';
import { assertWaId, parseRecipientBehaviour, RecipientDirectory } from './recipient-directory';
import { SimulatorInputError } from './simulator-input-error';
import { StatusLifecycle } from './status-lifecycle';
import { assertWebhookUrl, verifyWebhookSubscription, type HandshakeResult } from './subscription-handshake';
import { TimerRegistry } from './timer-registry';
import type {
  RecipientBehaviour,
  SendFailureInjection,
  SentMessage,
  SimulatorEvent,
  SimulatorOptions,
  SimulatorPhoneNumber,
  WebhookDelivery,
  WhatsAppSimulator,
} from './types';
import { WebhookDispatcher } from './webhook-dispatcher';
import { buildStatusWebhookPayload, type StatusUpdate } from './webhook-payloads';

/** Default pause between status changes of one message. */
export const DEFAULT_STATUS_DELAY_MS = 50;

// Loopback only: the simulator accepts any caller, so it must never be reachable from outside.
const LISTEN_HOST = '127.0.0.1';

function assertNonEmptyString(value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '') throw new SimulatorInputError(`${what} must be a non-empty string`);
}

function validateOptions(options: SimulatorOptions): void {
  assertNonEmptyString(options.appSecret, 'appSecret');
  if (!Array.isArray(options.phoneNumbers) || options.phoneNumbers.length === 0) {
    throw new SimulatorInputError('phoneNumbers must list at least one phone number');
  }
  const ids = new Set<string>();
  for (const phone of options.phoneNumbers) {
    for (const field of ['id', 'displayPhoneNumber', 'accessToken', 'wabaId'] as const) {
      assertNonEmptyString(phone[field], `phoneNumbers[].${field}`);
    }
    if (ids.has(phone.id)) throw new SimulatorInputError(`phone number id ${phone.id} is listed twice`);
    ids.add(phone.id);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SimulatorInputError('port must be 0-65535');
  const delay = options.statusDelayMs ?? DEFAULT_STATUS_DELAY_MS;
  if (!Number.isFinite(delay) || delay < 0) throw new SimulatorInputError('statusDelayMs must be >= 0');
  if (options.webhookUrl !== undefined) assertWebhookUrl(options.webhookUrl);
}

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
    // Idle keep-alive connections would otherwise hold close() open for seconds.
    server.closeAllConnections();
  });
}

/** All state of one running simulator; `startSimulator` wires it to an HTTP server. */
class SimulatorRuntime implements ControlApiTarget {
  private readonly clock = systemClock;
  private readonly ids: IdSource;
  private readonly timers = new TimerRegistry();
  private readonly recipients = new RecipientDirectory();
  private readonly failures = new FailureInjector();
  private readonly sent: SentMessage[] = [];
  private readonly deliveries: WebhookDelivery[] = [];
  private readonly phonesById: ReadonlyMap<string, SimulatorPhoneNumber>;
  private readonly lifecycle: StatusLifecycle;
  private readonly dispatcher: WebhookDispatcher;
  private readonly shutdown = new AbortController();
  private webhookUrl: string | undefined;

  constructor(private readonly options: SimulatorOptions) {
    this.ids = createIdSource(options.seed);
    this.phonesById = new Map(options.phoneNumbers.map((phone) => [phone.id, { ...phone }]));
    this.webhookUrl = options.webhookUrl;
    this.dispatcher = new WebhookDispatcher({
      appSecret: options.appSecret,
      clock: this.clock,
      timers: this.timers,
      resolveUrl: () => this.webhookUrl,
      onAttempt: (delivery) => this.recordDelivery(delivery),
    });
    this.lifecycle = new StatusLifecycle({
      clock: this.clock,
      timers: this.timers,
      recipients: this.recipients,
      conversations: new ConversationTracker(() => this.ids.conversationId()),
      statusDelayMs: options.statusDelayMs ?? DEFAULT_STATUS_DELAY_MS,
      publish: (phone, update) => this.publishStatus(phone, update),
    });
  }

  readonly cloudApi: CloudApiDependencies = {
    findPhoneNumber: (id) => this.phonesById.get(id),
    isKnownAccessToken: (token) => [...this.phonesById.values()].some((phone) => phone.accessToken === token),
    takeInjectedFailure: () => this.failures.takeNext(),
    newFbtraceId: () => this.ids.fbtraceId(),
    recordSentMessage: (phone, request) => {
      const message: SentMessage = {
        wamid: this.ids.wamid(request.waId),
        phoneNumberId: phone.id,
        to: request.to,
        waId: request.waId,
        body: request.body,
        at: new Date(this.clock.nowMs()).toISOString(),
      };
      this.sent.push(message);
      this.emit({ type: 'message_accepted', wamid: message.wamid, phoneNumberId: phone.id, waId: message.waId });
      return message;
    },
    beginStatusLifecycle: (phone, message) => this.lifecycle.begin({ wamid: message.wamid, phone, waId: message.waId }),
    onRejected: (phoneNumberId, error) =>
      this.emit({ type: 'send_rejected', phoneNumberId, httpStatus: error.httpStatus, code: error.code }),
  };

  setWebhookUrl(url: string): void {
    assertWebhookUrl(url);
    this.webhookUrl = url;
    this.emit({ type: 'webhook_url_changed', url });
  }

  setRecipient(waId: string, behaviour: RecipientBehaviour): void {
    assertWaId(waId);
    const state = this.recipients.update(waId, parseRecipientBehaviour(behaviour));
    this.emit({ type: 'recipient_updated', waId, ...state });
    if (state.mode === 'online') this.lifecycle.resumeHeld(waId);
  }

  injectSendFailures(failure: SendFailureInjection): void {
    const checked = parseSendFailureInjection(failure);
    this.failures.add(checked);
    this.emit({ type: 'failures_injected', count: checked.count, httpStatus: checked.httpStatus, code: checked.code });
  }

  sentMessages(): SentMessage[] {
    return structuredClone(this.sent);
  }

  webhookDeliveries(): WebhookDelivery[] {
    return structuredClone(this.deliveries);
  }

  async subscribeWebhook(url: string, verifyToken: string): Promise<HandshakeResult> {
    assertWebhookUrl(url);
    const result = await verifyWebhookSubscription(url, verifyToken, this.shutdown.signal);
    if (result.ok) this.setWebhookUrl(url);
    return result;
  }

  /** Cancels timers, aborts handshakes and webhook requests, and waits for webhook queues to settle. */
  async stop(): Promise<void> {
    this.timers.cancelAll();
    this.shutdown.abort();
    await this.dispatcher.stop();
  }

  private publishStatus(phone: SimulatorPhoneNumber, update: StatusUpdate): void {
    this.emit({ type: 'status_emitted', wamid: update.wamid, status: update.status, waId: update.recipientId });
    const body = JSON.stringify(buildStatusWebhookPayload(phone, update));
    this.dispatcher.enqueue(update.wamid, { body, statuses: [{ id: update.wamid, status: update.status }] });
  }

  private recordDelivery(delivery: WebhookDelivery): void {
    this.deliveries.push(delivery);
    const { id, url, attempt, statuses, responseStatus, error } = delivery;
    this.emit({
      type: 'webhook_attempt',
      deliveryId: id,
      url,
      attempt,
      statuses,
      ...(responseStatus === undefined ? {} : { responseStatus }),
      ...(error === undefined ? {} : { error }),
    });
  }

  private emit(event: SimulatorEvent): void {
    try {
      this.options.onEvent?.(event);
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
    await handleMessagesRequest(request, response, url, phoneNumberId, runtime.cloudApi);
    return;
  }
  request.resume();
  const error = unknownPathError(url.pathname);
  sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, runtime.cloudApi.newFbtraceId()));
}

/**
 * Starts a WhatsApp Cloud API simulator on 127.0.0.1. Throws {@link SimulatorInputError} for invalid options.
 *
 * @example
 * const sim = await startSimulator({ appSecret: 's', phoneNumbers: [{ id: '1', displayPhoneNumber: '15550001111', accessToken: 't', wabaId: 'w' }] });
 * await fetch(`${sim.url}/v23.0/1/messages`, { method: 'POST', headers: { Authorization: 'Bearer t' }, body: JSON.stringify({...}) });
 * await sim.stop();
 */
export async function startSimulator(options: SimulatorOptions): Promise<WhatsAppSimulator> {
  validateOptions(options);
  const runtime = new SimulatorRuntime(options);
  const server = http.createServer(createRequestListener(runtime));
  const port = await listen(server, options.port ?? 0);
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${LISTEN_HOST}:${port}`,
    setWebhookUrl: (url) => runtime.setWebhookUrl(url),
    setRecipient: (waId, behaviour) => runtime.setRecipient(waId, behaviour),
    injectSendFailures: (failure) => runtime.injectSendFailures(failure),
    sentMessages: () => runtime.sentMessages(),
    webhookDeliveries: () => runtime.webhookDeliveries(),
    stop: () => {
      stopping ??= Promise.all([runtime.stop(), closeServer(server)]).then(() => undefined);
      return stopping;
    },
  };
}
