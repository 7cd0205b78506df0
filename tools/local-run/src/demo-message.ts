import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { MessageStatus, MessagingServiceClient, messageStatusToJSON, type Message, type SendMessageResponse } from '@waygate/proto';

/** The demo recipient: the simulator treats every number as a WhatsApp user that is online and reads messages. */
export const DEMO_RECIPIENT = '+4915112345678';

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
    const sent = await call<SendMessageResponse>((callback) =>
      client.sendMessage(
        {
          to: options.to ?? DEMO_RECIPIENT,
          content: { $case: 'text', value: { body: options.text ?? 'Hello from Waygate 👋', previewUrl: false } },
          idempotencyKey: `demo-${Date.now()}`,
          validity: undefined,
          replyTo: '',
          phoneNumberId: '',
        },
        metadata,
        callback,
      ),
    );
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let lastStatus: MessageStatus | undefined;
    for (;;) {
      const message = await call<Message>((callback) => client.getMessage({ messageId: sent.messageId }, metadata, callback));
      if (message.status !== lastStatus) {
        lastStatus = message.status;
        options.onStatus(messageStatusToJSON(message.status).replace('MESSAGE_STATUS_', ''), message);
      }
      if (TERMINAL.has(message.status) || Date.now() > deadline) return message;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.close();
  }
}
