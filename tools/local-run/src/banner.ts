import type { DevCredentials } from './dev-credentials';
import type { StackPorts } from './stack';

/**
 * The block `npm start` prints once everything runs: each endpoint with the gRPC services it serves (as its server
 * reflection lists them), the demo credentials, and how to send a message.
 */
export function formatRunningBanner(options: {
  readonly region: string;
  readonly ports: StackPorts;
  readonly credentials: DevCredentials;
  readonly webhookUrl: string;
  readonly simulatorUrl: string;
}): string {
  const { ports, credentials: c } = options;
  const rows: [string, string][] = [
    ['ingress', `127.0.0.1:${ports.grpc.ingress}  MessagingService (authorization: Bearer ${c.apiKey})`],
    ['receipt', `127.0.0.1:${ports.grpc.receipt}  ReceiptService (WatchEvents, dead letters), InboundService`],
    ['media-store', `127.0.0.1:${ports.grpc['media-store']}  MediaService`],
    ['archive', `127.0.0.1:${ports.grpc.archive}  ArchiveService`],
    ['delivery-retry', `127.0.0.1:${ports.grpc['delivery-retry']}  DeliveryAdminService (internal: service token only)`],
    ['WhatsApp webhook', options.webhookUrl],
    ['WhatsApp simulator', `${options.simulatorUrl}  (control API under /_simulator/)`],
  ];
  return `
================================ Waygate is running (region ${options.region}) ================================
${rows.map(([name, value]) => `  ${name.padEnd(20)}${value}`).join('\n')}
  Demo tenant "demo" (${options.region}):  API key ${c.apiKey}
                            phone number id ${c.phoneNumberId}, app secret ${c.appSecret}
  Tenant "demo-us" (homed in us, refused here): API key ${c.usApiKey}
  ingress, delivery-retry, receipt and archive also serve DeadLetterAdminService (their consumers' dead letters),
    internal like DeliveryAdminService: authorization: Bearer <internalServiceToken of dev-credentials.json>
  Free-form text needs the customer to have written within 24 hours (else WhatsApp error 131047):
    curl -X POST ${options.simulatorUrl}/_simulator/inbound -H 'Content-Type: application/json' \\
      -d '{"message":{"type":"text","from":"4915112345678","text":"Hi"}}'
  Send another demo message (the customer writes first): npm run demo          Stop: Ctrl-C
===============================================================================================
`;
}
