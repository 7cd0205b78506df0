/**
 * `npm run demo`: sends one message through a running local stack (`npm start`) and prints its statuses.
 * `npm run demo -- --region us` uses the US stack of `npm start -- --regions eu,us` and its tenant.
 * `npm run demo -- --template [+number]` sends the `order_update` template instead, to a customer who never wrote.
 * Reads the API key from <WAYGATE_DATA_DIR or .data>/dev-credentials.json unless WAYGATE_DEV_API_KEY is set.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { messageStatusToJSON } from '@waygate/proto';
import { DEMO_RECIPIENT, DEMO_TEMPLATE_RECIPIENT, sendDemoMessage, sendDemoTemplate } from './demo-message';
import { loadDevCredentials, regionDemoTenant } from './dev-credentials';
import { DEFAULT_PORTS, regionPorts, type Region } from './stack';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const regionIndex = args.indexOf('--region');
  const region = (regionIndex === -1 ? 'eu' : args[regionIndex + 1]) as Region;
  if (region !== 'eu' && region !== 'us') throw new Error(`--region: eu or us (got "${String(region)}")`);
  const positional = args.filter((arg, index) => !arg.startsWith('--') && (regionIndex === -1 || index !== regionIndex + 1));
  const dataDir = process.env.WAYGATE_DATA_DIR ?? '.data';
  const credentialsFile = path.join(dataDir, 'dev-credentials.json');
  if (!process.env.WAYGATE_DEV_API_KEY && !existsSync(credentialsFile))
    throw new Error(`no API key: start the stack with "npm start" first (it writes ${credentialsFile}) or set WAYGATE_DEV_API_KEY`);
  const tenant = existsSync(credentialsFile) ? regionDemoTenant(loadDevCredentials(dataDir, {}), region) : undefined;
  const apiKey = process.env.WAYGATE_DEV_API_KEY || (tenant?.apiKey as string);
  const address = process.env.WAYGATE_INGRESS_ADDRESS ?? `127.0.0.1:${regionPorts(DEFAULT_PORTS, region).grpc.ingress}`;
  const template = args.includes('--template');
  const to = positional[0] ?? (template ? DEMO_TEMPLATE_RECIPIENT : DEMO_RECIPIENT);
  const onStatus = (status: string, current: { messageId: string }) =>
    console.log(`${new Date().toISOString()}  ${current.messageId}  ${status}`);
  console.log(`Sending a demo ${template ? 'template (order_update)' : 'message'} to ${to} via ${address} (${region}) ...`);
  const message = template
    ? await sendDemoTemplate({ address, apiKey, to, onStatus })
    : await sendDemoMessage({
        address,
        apiKey,
        to,
        simulatorUrl: process.env.WAYGATE_SIMULATOR_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.simulator}`,
        ...(tenant === undefined ? {} : { phoneNumberId: tenant.phoneNumberId }),
        onStatus,
      });
  for (const entry of message.timeline) {
    console.log(
      `  ${messageStatusToJSON(entry.status).replace('MESSAGE_STATUS_', '').padEnd(10)} ${entry.occurredAt?.toISOString()}  from ${entry.source}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${(error as Error).message}`);
  process.exit(1);
});
