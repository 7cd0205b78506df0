import type { DevCredentials, RegionDemoTenant } from './dev-credentials';
import type { StackPorts } from './stack';

/**
 * The block `npm start` prints once everything runs: each endpoint with the gRPC services it serves (as its server
 * reflection lists them), the demo credentials, and how to send a message.
 */
export function formatRunningBanner(options: {
  readonly region: string;
  readonly ports: StackPorts;
  readonly credentials: DevCredentials;
  /** The region's demo tenant (default: the EU one, `demo`). */
  readonly tenant?: RegionDemoTenant;
  /** Regions running beside this one (`--regions eu,us`); none by default. */
  readonly otherRegions?: readonly string[];
  readonly webhookUrl: string;
  readonly simulatorUrl: string;
}): string {
  const { ports, credentials: c } = options;
  const tenant = options.tenant ?? {
    tenantId: 'demo',
    apiKey: c.apiKey,
    phoneNumberId: c.phoneNumberId,
    appSecret: c.appSecret,
  };
  const others = options.otherRegions ?? [];
  const refused =
    others.length === 0
      ? `  Tenant "demo-us" (homed in us, refused here): API key ${c.usApiKey}\n`
      : `  Tenants homed in ${others.join(', ')} are refused here (FAILED_PRECONDITION naming their region); their stacks run beside it.\n`;
  const tokenField = options.region === 'us' && others.length > 0 ? 'usInternalServiceToken' : 'internalServiceToken';
  const demoCommand = others.length === 0 || options.region === 'eu' ? 'npm run demo' : `npm run demo -- --region ${options.region}`;
  const rows: [string, string][] = [
    ['ingress', `127.0.0.1:${ports.grpc.ingress}  MessagingService (authorization: Bearer ${tenant.apiKey})`],
    ['receipt', `127.0.0.1:${ports.grpc.receipt}  ReceiptService (WatchEvents, dead letters), InboundService`],
    ['media-store', `127.0.0.1:${ports.grpc['media-store']}  MediaService`],
    ['archive', `127.0.0.1:${ports.grpc.archive}  ArchiveService`],
    ['delivery-retry', `127.0.0.1:${ports.grpc['delivery-retry']}  DeliveryAdminService (internal: service token only)`],
    ...(ports.metrics
      ? [
          [
            'Prometheus metrics',
            `http://127.0.0.1:<port>/metrics  ${Object.entries(ports.metrics)
              .map(([s, p]) => `${s} ${p}`)
              .join(', ')}`,
          ] as [string, string],
        ]
      : []),
    ['WhatsApp webhook', options.webhookUrl],
    ['WhatsApp simulator', `${options.simulatorUrl}  (control API under /_simulator/)`],
  ];
  return `
================================ Waygate is running (region ${options.region}) ================================
${rows.map(([name, value]) => `  ${name.padEnd(20)}${value}`).join('\n')}
  Demo tenant "${tenant.tenantId}" (${options.region}):  API key ${tenant.apiKey}
                            phone number id ${tenant.phoneNumberId}, app secret ${tenant.appSecret}
${refused}  ingress, delivery-retry, receipt and archive also serve DeadLetterAdminService (their consumers' dead letters),
    internal like DeliveryAdminService: authorization: Bearer <${tokenField} of dev-credentials.json>
  Free-form text needs the customer to have written within 24 hours (else WhatsApp error 131047):
    curl -X POST ${options.simulatorUrl}/_simulator/inbound -H 'Content-Type: application/json' \\
      -d '{${others.length === 0 ? '' : `"phoneNumberId":"${tenant.phoneNumberId}",`}"message":{"type":"text","from":"4915112345678","text":"Hi"}}'
  Send another demo message (the customer writes first): ${demoCommand}          Stop: Ctrl-C
===============================================================================================
`;
}
