import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  MessageStatus,
  MessagingServiceClient,
  TemplateComponentType,
  messageStatusToJSON,
  type Message,
  type SendMessageRequest,
  type SendMessageResponse,
} from '@waygate/proto';

/** The demo recipient: the simulator treats every number as a WhatsApp user that is online and reads messages. */
export const DEMO_RECIPIENT = '+4915112345678';

/** The template demo's recipient: a customer who never wrote, so only a template can reach them. */
export const DEMO_TEMPLATE_RECIPIENT = '+4915187654321';

/**
 * Makes the simulated customer write to the business first. WhatsApp only lets a business send free-form text within
 * 24 hours of the customer's last message (otherwise the message fails with 131047), and the simulator enforces that.
 */
export async function customerWritesFirst(simulatorUrl: string, to: string, phoneNumberId?: string): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_simulator/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...(phoneNumberId === undefined ? {} : { phoneNumberId }),
      message: { type: 'text', from: to.replace(/\D/g, ''), profileName: 'Demo Customer', text: 'Hi!' },
    }),
  });
  if (!response.ok) throw new Error(`the simulator refused the customer's message: ${await response.text()}`);
}

/** How long the customer's message may take to reach ingress's view of the windows (it lags by about a second). */
export const WINDOW_OPEN_TIMEOUT_MS = 15_000;

/**
 * Runs `send` until ingress stops refusing it as FAILED_PRECONDITION (the customer's window is not in its view yet:
 * the customer's message travels simulator -> receipt -> NATS -> ingress) or `timeoutMs` passes; other errors are
 * thrown at once. Use after {@link customerWritesFirst}.
 */
export async function untilWindowOpen<T>(send: () => Promise<T>, timeoutMs = WINDOW_OPEN_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await send();
    } catch (error) {
      if ((error as ServiceError).code !== grpcStatus.FAILED_PRECONDITION || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const TERMINAL = new Set([MessageStatus.MESSAGE_STATUS_READ, MessageStatus.MESSAGE_STATUS_FAILED, MessageStatus.MESSAGE_STATUS_EXPIRED]);

function call<T>(run: (callback: (error: ServiceError | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))));
}

/**
 * Sends one text message through ingress and reports each status change until the message is READ (or failed or
 * expired), or `timeoutMs` passes. Returns the final message.
 */
export async function sendDemoMessage(options: {
  address: string;
  apiKey: string;
  to?: string;
  text?: string;
  timeoutMs?: number;
  /** When set, the simulated customer writes first so that the free-form demo text is allowed. */
  simulatorUrl?: string;
  /** The business number the customer writes to (default: the simulator's first, the EU demo number). */
  phoneNumberId?: string;
  onStatus: (status: string, message: Message) => void;
}): Promise<Message> {
  const client = new MessagingServiceClient(options.address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${options.apiKey}`);
  try {
    if (options.simulatorUrl !== undefined)
      await customerWritesFirst(options.simulatorUrl, options.to ?? DEMO_RECIPIENT, options.phoneNumberId);
    const idempotencyKey = `demo-${Date.now()}`;
    const send = () =>
      call<SendMessageResponse>((callback) =>
        client.sendMessage(
          {
            to: options.to ?? DEMO_RECIPIENT,
            content: { $case: 'text', value: { body: options.text ?? 'Hello from Waygate 👋', previewUrl: false } },
            idempotencyKey,
            validity: undefined,
            replyTo: '',
            phoneNumberId: '',
          },
          metadata,
          callback,
        ),
      );
    // Nothing is stored for a refusal, so the same idempotency key is sent again.
    const sent = options.simulatorUrl !== undefined ? await untilWindowOpen(send) : await send();
    return await followStatuses(client, metadata, sent.messageId, options.timeoutMs ?? 30_000, options.onStatus);
  } finally {
    client.close();
  }
}

/** Reports each status change of a message until it is READ (or failed or expired), or `timeoutMs` passes. */
async function followStatuses(
  client: MessagingServiceClient,
  metadata: Metadata,
  messageId: string,
  timeoutMs: number,
  onStatus: (status: string, message: Message) => void,
): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  let lastStatus: MessageStatus | undefined;
  for (;;) {
    const message = await call<Message>((callback) => client.getMessage({ messageId }, metadata, callback));
    if (message.status !== lastStatus) {
      lastStatus = message.status;
      onStatus(messageStatusToJSON(message.status).replace('MESSAGE_STATUS_', ''), message);
    }
    if (TERMINAL.has(message.status) || Date.now() > deadline) return message;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The demo template send: the simulator's seeded `order_update` (a NAMED utility template). */
function demoTemplateRequest(to: string): SendMessageRequest {
  return {
    to,
    content: {
      $case: 'template',
      value: {
        name: 'order_update',
        language: 'en_US',
        components: [
          {
            type: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_BODY,
            subType: '',
            index: 0,
            parameters: [
              { parameterName: 'first_name', value: { $case: 'text', value: 'Ada' } },
              { parameterName: 'order_id', value: { $case: 'text', value: 'A-1042' } },
            ],
          },
        ],
      },
    },
    idempotencyKey: `demo-template-${Date.now()}`,
    validity: undefined,
    replyTo: '',
    phoneNumberId: '',
  };
}

/**
 * Sends the `order_update` template to a customer who never wrote (only a template may start a conversation) and
 * reports its statuses like {@link sendDemoMessage}. Right after start the template catalog may not have been read from
 * Meta yet (UNAVAILABLE): the send is tried again for up to `catalogWaitMs`.
 */
export async function sendDemoTemplate(options: {
  address: string;
  apiKey: string;
  to?: string;
  timeoutMs?: number;
  catalogWaitMs?: number;
  onStatus: (status: string, message: Message) => void;
}): Promise<Message> {
  const client = new MessagingServiceClient(options.address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${options.apiKey}`);
  const request = demoTemplateRequest(options.to ?? DEMO_TEMPLATE_RECIPIENT);
  const catalogDeadline = Date.now() + (options.catalogWaitMs ?? 15_000);
  try {
    for (;;) {
      try {
        const sent = await call<SendMessageResponse>((callback) => client.sendMessage(request, metadata, callback));
        return await followStatuses(client, metadata, sent.messageId, options.timeoutMs ?? 30_000, options.onStatus);
      } catch (error) {
        if ((error as ServiceError).code !== grpcStatus.UNAVAILABLE || Date.now() > catalogDeadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    client.close();
  }
}
