/**
 * `npm run demo`: sends one message through a running local stack (`npm start`) and prints its statuses.
 * Reads the API key from <WAYGATE_DATA_DIR or .data>/dev-credentials.json unless WAYGATE_DEV_API_KEY is set.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { messageStatusToJSON } from '@waygate/proto';
import { DEMO_RECIPIENT, sendDemoMessage } from './demo-message';
import { DEFAULT_PORTS } from './stack';

async function main(): Promise<void> {
  const credentialsFile = path.join(process.env.WAYGATE_DATA_DIR ?? '.data', 'dev-credentials.json');
  const apiKey =
    process.env.WAYGATE_DEV_API_KEY ??
    (existsSync(credentialsFile) ? (JSON.parse(readFileSync(credentialsFile, 'utf8')) as { apiKey: string }).apiKey : undefined);
  if (!apiKey)
    throw new Error(`no API key: start the stack with "npm start" first (it writes ${credentialsFile}) or set WAYGATE_DEV_API_KEY`);
  const address = process.env.WAYGATE_INGRESS_ADDRESS ?? `127.0.0.1:${DEFAULT_PORTS.grpc.ingress}`;
  const to = process.argv[2] ?? DEMO_RECIPIENT;
  console.log(`Sending a demo message to ${to} via ${address} ...`);
  const message = await sendDemoMessage({
    address,
    apiKey,
    to,
    simulatorUrl: process.env.WAYGATE_SIMULATOR_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.simulator}`,
    onStatus: (status, current) => console.log(`${new Date().toISOString()}  ${current.messageId}  ${status}`),
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
