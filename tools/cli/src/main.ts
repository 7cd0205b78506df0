/**
 * The operator CLI: `npm run cli -- <command>`. Talks to ingress (MessagingService) and receipt (ReceiptService) over
 * gRPC with a tenant's API key, hashes API keys as the tenants file wants them, and checks a tenant's onboarding
 * against the Graph API. `--json` prints machine-readable output. Exit codes: 0 ok, 1 the call or a check failed,
 * 2 a usage error.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  GetMessageRequest,
  ListTemplatesRequest,
  ListTemplatesResponse,
  Message,
  MessagingServiceClient,
  ReceiptServiceClient,
  SendMessageRequest,
  SendMessageResponse,
  TenantEventType,
  WatchEventsRequest,
  WatchEventsResponse,
} from '@waygate/proto';
import { hashApiKey, loadTenantsFile } from '@waygate/tenancy';
import { runArchiveExport } from './archive-export';
import { runArchiveVerify } from './archive-verify';
import { option, parseArgs, UsageError, type ParsedArgs } from './cli-args';
import { runDoctor } from './doctor';

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  send --json '<SendMessageRequest JSON>' | --file request.json | --to +4915112345678 --text "Hello"
       [--idempotency-key KEY] [--phone-number-id ID]      send a message (any type the proto has, as JSON)
  get <message_id>                                         a message with its status timeline
  watch [--after SEQ] [--type STATUS|INBOUND]... [--limit N]
                                                           stream the tenant's events (receipt)
  templates [--waba-id ID] [--name NAME]                   the tenant's template catalog
  hash-key <api key>                                       SHA-256 for the tenants file's apiKeys
  doctor --tenant ID [--tenants-file FILE] [--graph-url URL] [--graph-version v23.0] [--webhook-url URL]
                                                           check a tenant's onboarding with Meta
  archive export --out DIR [--customer +E164] [--phone-number-id ID] [--from ISO] [--to ISO]
       [--conversation ID]... [--format jsonl,csv,html]    export the archive into a new directory and verify
                                                           every file against the manifest (also: npm run archive -- export)
  archive verify DIR [--key <verifier key>]                verify an export offline: manifest hashes, the signed
                                                           log checkpoint, every record's inclusion proof, and that
                                                           every message is backed by its records (exit 1 if not)

options (or environment):
  --address HOST:PORT          ingress (WAYGATE_ADDRESS, default 127.0.0.1:50051)
  --receipt-address HOST:PORT  receipt, for watch (WAYGATE_RECEIPT_ADDRESS, default 127.0.0.1:50052)
  --archive-address HOST:PORT  archive, for archive (WAYGATE_ARCHIVE_ADDRESS, default 127.0.0.1:50054)
  --key API_KEY                the tenant's API key (WAYGATE_API_KEY)
  --tls-ca FILE [--tls-cert FILE --tls-key FILE]   TLS to the services (client certificate optional)
  --json                       JSON output
`;

interface Output {
  json: boolean;
  print(human: string, json: unknown): void;
}

function output(json: boolean): Output {
  return {
    json,
    print: (human, value) => process.stdout.write(`${json ? JSON.stringify(value) : human}\n`),
  };
}

function channel(args: ParsedArgs): ChannelCredentials {
  const ca = option(args, 'tls-ca') ?? process.env.WAYGATE_TLS_CA;
  if (!ca) return credentials.createInsecure();
  const cert = option(args, 'tls-cert') ?? process.env.WAYGATE_TLS_CERT;
  const key = option(args, 'tls-key') ?? process.env.WAYGATE_TLS_KEY;
  return credentials.createSsl(readFileSync(ca), key ? readFileSync(key) : null, cert ? readFileSync(cert) : null);
}

function apiKeyMetadata(args: ParsedArgs): Metadata {
  const key = option(args, 'key') ?? process.env.WAYGATE_API_KEY;
  if (!key) throw new UsageError('an API key is needed: --key or WAYGATE_API_KEY');
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  return metadata;
}

const ingressAddress = (args: ParsedArgs) => option(args, 'address') ?? process.env.WAYGATE_ADDRESS ?? '127.0.0.1:50051';
const receiptAddress = (args: ParsedArgs) => option(args, 'receipt-address') ?? process.env.WAYGATE_RECEIPT_ADDRESS ?? '127.0.0.1:50052';
const archiveAddress = (args: ParsedArgs) => option(args, 'archive-address') ?? process.env.WAYGATE_ARCHIVE_ADDRESS ?? '127.0.0.1:50054';

/** A unary call as a promise, with a deadline. */
function unary<Req, Res>(
  call: (
    request: Req,
    metadata: Metadata,
    options: { deadline: number },
    done: (error: ServiceError | null, response: Res) => void,
  ) => void,
  request: Req,
  metadata: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    call(request, metadata, { deadline: Date.now() + 15_000 }, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function parseJsonArgument(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not JSON: ${(error as Error).message}`);
  }
}

/** The SendMessageRequest from --json, --file or the --to/--text shorthand, through ts-proto's fromJSON. */
function sendRequest(args: ParsedArgs): SendMessageRequest {
  const json = option(args, 'json-request') ?? option(args, 'request');
  const file = option(args, 'file');
  let body: Record<string, unknown>;
  if (json !== undefined || file !== undefined) {
    const parsed =
      json !== undefined ? parseJsonArgument(json, '--json') : parseJsonArgument(readFileSync(file as string, 'utf8'), file as string);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('the request must be a JSON object');
    body = parsed as Record<string, unknown>;
  } else {
    const to = option(args, 'to');
    const text = option(args, 'text');
    if (!to || text === undefined) throw new UsageError("send needs --json '{...}', --file FILE, or --to and --text");
    body = { to, text: { body: text } };
  }
  const idempotencyKey = option(args, 'idempotency-key');
  const phoneNumberId = option(args, 'phone-number-id');
  if (idempotencyKey) body.idempotency_key = idempotencyKey;
  if (phoneNumberId) body.phone_number_id = phoneNumberId;
  // A retry of the same command should be answered from the store, so a generated key is printed with the result.
  if (body.idempotency_key === undefined && body.idempotencyKey === undefined) body.idempotency_key = `cli-${randomUUID()}`;
  return SendMessageRequest.fromJSON(body);
}

async function send(args: ParsedArgs, out: Output): Promise<number> {
  const request = sendRequest(args);
  const client = new MessagingServiceClient(ingressAddress(args), channel(args));
  try {
    const response = await unary(client.sendMessage.bind(client), request, apiKeyMetadata(args));
    const json = SendMessageResponse.toJSON(response) as Record<string, unknown>;
    out.print(`${response.messageId} ${String(json.status ?? '')} (idempotency key ${request.idempotencyKey})`, {
      ...json,
      idempotencyKey: request.idempotencyKey,
    });
    return 0;
  } finally {
    client.close();
  }
}

async function get(args: ParsedArgs, out: Output): Promise<number> {
  const messageId = args.positionals[1];
  if (!messageId) throw new UsageError('get needs a message id');
  const client = new MessagingServiceClient(ingressAddress(args), channel(args));
  try {
    const message = await unary(client.getMessage.bind(client), GetMessageRequest.fromPartial({ messageId }), apiKeyMetadata(args));
    const json = Message.toJSON(message);
    out.print(JSON.stringify(json, null, 2), json);
    return 0;
  } finally {
    client.close();
  }
}

async function templates(args: ParsedArgs, out: Output): Promise<number> {
  const client = new MessagingServiceClient(ingressAddress(args), channel(args));
  try {
    const request = ListTemplatesRequest.fromJSON({ waba_id: option(args, 'waba-id') ?? '', name: option(args, 'name') ?? '' });
    const response = await unary(client.listTemplates.bind(client), request, apiKeyMetadata(args));
    const json = ListTemplatesResponse.toJSON(response);
    out.print(JSON.stringify(json, null, 2), json);
    return 0;
  } finally {
    client.close();
  }
}

async function watch(args: ParsedArgs, out: Output): Promise<number> {
  const limit = option(args, 'limit') === undefined ? Number.POSITIVE_INFINITY : Number(option(args, 'limit'));
  if (!(limit > 0)) throw new UsageError('--limit must be a positive number');
  const types = (args.options.get('type') ?? []).map((type) => {
    const name = type.startsWith('TENANT_EVENT_TYPE_') ? type : `TENANT_EVENT_TYPE_${type}`;
    if (!(name in TenantEventType)) throw new UsageError(`--type ${type}: unknown event type`);
    return name;
  });
  const request = WatchEventsRequest.fromJSON({ after_sequence: option(args, 'after') ?? '0', event_types: types });
  const client = new ReceiptServiceClient(receiptAddress(args), channel(args));
  const stream = client.watchEvents(request, apiKeyMetadata(args));
  let seen = 0;
  return new Promise((resolve, reject) => {
    const stopOnSignal = () => stream.cancel();
    process.once('SIGINT', stopOnSignal);
    stream.on('data', (response: WatchEventsResponse) => {
      const json = WatchEventsResponse.toJSON(response);
      out.print(JSON.stringify(json), json);
      seen++;
      if (seen >= limit) stream.cancel();
    });
    stream.on('error', (error: ServiceError) => {
      client.close();
      process.off('SIGINT', stopOnSignal);
      if (error.code === status.CANCELLED) resolve(0);
      else reject(error);
    });
    stream.on('end', () => {
      client.close();
      resolve(0);
    });
  });
}

function hashKey(args: ParsedArgs, out: Output): number {
  const key = args.positionals[1];
  if (!key) throw new UsageError('hash-key needs the API key');
  const sha256 = hashApiKey(key);
  out.print(
    `${sha256}\n  apiKeys:\n    - sha256: ${sha256}\n      id: key_${sha256.slice(0, 12)} # optional: names the key in the access log\n` +
      `      scopes: [messages:send, messages:read, events:read] # optional: this is the default; see docs/governance.md`,
    { sha256 },
  );
  return 0;
}

async function doctor(args: ParsedArgs, out: Output): Promise<number> {
  const tenantId = option(args, 'tenant');
  if (!tenantId) throw new UsageError('doctor needs --tenant ID');
  const file = option(args, 'tenants-file') ?? process.env.WAYGATE_TENANTS_FILE;
  if (!file) throw new UsageError('doctor needs the tenants file: --tenants-file or WAYGATE_TENANTS_FILE');
  const tenant = loadTenantsFile(file).get(tenantId);
  if (!tenant) throw new UsageError(`tenant "${tenantId}" is not in ${file}`);
  const expectedWebhookUrl = option(args, 'webhook-url');
  const checks = await runDoctor({
    tenant,
    graphBaseUrl: option(args, 'graph-url') ?? process.env.WAYGATE_WHATSAPP_API_BASE_URL ?? 'https://graph.facebook.com',
    graphVersion: option(args, 'graph-version') ?? process.env.WAYGATE_WHATSAPP_API_VERSION ?? 'v23.0',
    ...(expectedWebhookUrl ? { expectedWebhookUrl } : {}),
  });
  const ok = checks.every((check) => check.ok);
  out.print(
    `${checks.map((check) => `${check.ok ? 'ok  ' : 'FAIL'}  ${check.check}: ${check.detail}`).join('\n')}\n${ok ? 'onboarding looks complete' : 'onboarding has problems'}`,
    { tenant: tenant.id, ok, checks },
  );
  return ok ? 0 : 1;
}

async function archive(args: ParsedArgs, out: Output): Promise<number> {
  if (args.positionals[1] === 'verify') return runArchiveVerify(args, out.print);
  if (args.positionals[1] !== 'export') throw new UsageError('archive needs a subcommand: export or verify');
  return runArchiveExport(args, {
    address: archiveAddress(args),
    credentials: channel(args),
    metadata: () => apiKeyMetadata(args),
    print: out.print,
  });
}

const COMMANDS: Record<string, (args: ParsedArgs, out: Output) => number | Promise<number>> = {
  send,
  get,
  watch,
  templates,
  'hash-key': hashKey,
  doctor,
  archive,
};

/** Runs one command line; resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  // `--json` is both the output flag and send's request; a value that starts with { or [ is the request.
  const normalized: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json' && /^\s*[{[]/.test(argv[i + 1] ?? '')) normalized.push('--json-request', argv[++i] as string);
    else normalized.push(argv[i] as string);
  }
  let args: ParsedArgs;
  try {
    args = parseArgs(normalized);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const out = output(args.flags.has('json'));
  const command = COMMANDS[args.positionals[0] ?? ''];
  if (!command || args.flags.has('help')) {
    process.stderr.write(USAGE);
    return args.flags.has('help') ? 0 : 2;
  }
  try {
    return await command(args, out);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    const grpcError = error as Partial<ServiceError>;
    const reason = grpcError.code !== undefined ? `${status[grpcError.code]}: ${grpcError.details ?? ''}` : (error as Error).message;
    if (out.json)
      process.stdout.write(
        `${JSON.stringify({ error: { code: grpcError.code !== undefined ? status[grpcError.code] : 'ERROR', message: reason } })}\n`,
      );
    else process.stderr.write(`error: ${reason}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
