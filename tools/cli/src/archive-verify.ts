import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { leafHash, parseVerifierKey, verifyCheckpoint, verifyInclusion, type Checkpoint } from '@waygate/tlog';
import { verifyBundle } from './bundle-verify';
import { option, UsageError, type ParsedArgs } from './cli-args';

/** Most problems listed one by one; the rest are counted. */
const MAX_LISTED_PROBLEMS = 20;
/** The archive log entry version the verifier knows (apps/archive/src/domain/archive-log.ts). */
const ENTRY_VERSION = 0x01;

/** What `archive verify` found. */
export interface ArchiveVerifyResult {
  readonly problems: string[];
  readonly records: number;
  /** Records whose salt was shredded (erasure, retention): their entries are proven, their content cannot be. */
  readonly erasedRecords: number;
  readonly messages: number;
  readonly checkpoint?: Checkpoint;
  /** Where the verifier key came from: --key, or the bundle's own log/verifier-key (integrity only). */
  readonly keySource: 'option' | 'bundle';
}

interface RecordLine {
  record_id: string;
  leaf_index: number;
  salt: string | null;
  record: string;
}

interface ProofLine {
  record_id: string;
  leaf_index: number;
  tree_size: number;
  entry: string;
  audit_path: string[];
}

/** A record's event as the archive's canonical bytes encode it (only the fields the check compares). */
interface RecordEvent {
  eventId: string;
  messageId: string;
  kind: 'accepted' | 'status' | 'inbound';
  occurredAt: string;
  phoneNumberId?: string;
  recipient?: string;
  from?: string;
  status?: string;
  contentType?: string;
  messageType?: string;
  text?: string;
  textBody?: string;
  searchText?: string;
  contentJson?: string;
  mediaIds?: string[];
  mediaId?: string;
  templateName?: string;
  templateCategory?: string;
  contextWaMessageId?: string;
  errorCode?: number;
  errorTitle?: string;
  pricing?: { billable: boolean; pricingModel?: string; type?: string; category?: string };
  sentiment?: { language?: string; score?: number; label?: string };
}

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('base64');
const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

/** The messages.jsonl fields a message's own record determines (as the archive's message projection derives them). */
function expectedMessage(event: RecordEvent): unknown {
  const inbound = event.kind === 'inbound';
  return {
    record_id: event.eventId,
    message_id: event.messageId,
    occurred_at: event.occurredAt,
    phone_number_id: orNull(event.phoneNumberId),
    customer: orNull(inbound ? event.from : event.recipient),
    direction: inbound ? 'inbound' : 'outbound',
    type: inbound ? orNull(event.messageType) : (event.contentType ?? (event.textBody !== undefined ? 'text' : 'unknown')),
    text: orNull(inbound ? (event.searchText ?? event.text) : (event.text ?? event.textBody)),
    content_json: orNull(event.contentJson),
    media_ids: inbound ? (event.mediaId ? [event.mediaId] : []) : (event.mediaIds ?? []),
    template_name: orNull(event.templateName),
    template_category: orNull(event.templateCategory),
    context_wa_message_id: orNull(event.contextWaMessageId),
    sentiment:
      inbound && event.sentiment
        ? { language: orNull(event.sentiment.language), score: orNull(event.sentiment.score), label: orNull(event.sentiment.label) }
        : null,
  };
}

function statusKey(
  messageId: string,
  status: { status: string; occurred_at: string; error_code: number | null; error_title: string | null; pricing: unknown },
): string {
  return digest([messageId, status.status, status.occurred_at, status.error_code, status.error_title, status.pricing]);
}

function statusKeyOfEvent(event: RecordEvent): string {
  const pricing = event.pricing
    ? {
        billable: event.pricing.billable,
        pricing_model: orNull(event.pricing.pricingModel),
        type: orNull(event.pricing.type),
        category: orNull(event.pricing.category),
      }
    : null;
  return statusKey(event.messageId, {
    status: event.status ?? '',
    occurred_at: event.occurredAt,
    error_code: orNull(event.errorCode),
    error_title: orNull(event.errorTitle),
    pricing,
  });
}

async function* lines(file: string): AsyncGenerator<string> {
  const reader = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const line of reader) if (line.length > 0) yield line;
  } finally {
    reader.close();
  }
}

/** The entry's record id and hash, or undefined when it is not a version-1 archive log entry. */
function parseEntry(entry: Buffer): { recordId: string; hash: Buffer } | undefined {
  if (entry.length < 35 || entry[0] !== ENTRY_VERSION) return undefined;
  const length = entry.readUInt16BE(1);
  if (entry.length !== 3 + length + 32) return undefined;
  return { recordId: entry.subarray(3, 3 + length).toString('utf8'), hash: entry.subarray(3 + length) };
}

/**
 * Verifies an export bundle offline: every file against manifest.json; log/checkpoint's signature with the verifier
 * key (`verifierKey`, else the bundle's own log/verifier-key, which proves integrity but not origin); every record's
 * entry (rebuilt from its salt and canonical bytes) and its inclusion proof against the checkpoint; and that every
 * messages.jsonl row is backed by verified records with the same content (its own record, and one status record per
 * status it lists).
 */
export async function verifyArchiveBundle(dir: string, verifierKey?: string): Promise<ArchiveVerifyResult> {
  const { problems, manifest } = await verifyBundle(dir);
  const keySource = verifierKey ? 'option' : 'bundle';
  const result = (extra: Partial<ArchiveVerifyResult> = {}): ArchiveVerifyResult => ({
    problems,
    records: 0,
    erasedRecords: 0,
    messages: 0,
    keySource,
    ...extra,
  });
  const logFile = (name: string) => path.join(dir, 'log', name);
  if (!existsSync(logFile('checkpoint'))) {
    problems.push('log/checkpoint: missing (the bundle carries no archive log)');
    return result();
  }
  let checkpoint: Checkpoint;
  try {
    const key = verifierKey ?? readFileSync(logFile('verifier-key'), 'utf8').trim();
    checkpoint = verifyCheckpoint(readFileSync(logFile('checkpoint'), 'utf8'), parseVerifierKey(key));
  } catch (error) {
    problems.push(`log/checkpoint: ${(error as Error).message}`);
    return result();
  }
  const tenantId = (manifest as { tenant_id?: unknown } | undefined)?.tenant_id;
  if (typeof tenantId === 'string' && !checkpoint.origin.endsWith(`/archive/${tenantId}`))
    problems.push(`log/checkpoint: origin ${checkpoint.origin} is not the archive log of tenant ${tenantId}`);

  // records.jsonl and proofs.jsonl list the same records in the same order.
  const messageRecords = new Map<string, { digest: string } | { erased: true }>();
  const statusRecords = new Set<string>();
  let records = 0;
  let erasedRecords = 0;
  const proofs = lines(logFile('proofs.jsonl'))[Symbol.asyncIterator]();
  let lineNumber = 0;
  for await (const line of lines(logFile('records.jsonl'))) {
    lineNumber += 1;
    const where = `log/records.jsonl line ${lineNumber}`;
    const next = await proofs.next();
    if (next.done) {
      problems.push(`${where}: no matching line in log/proofs.jsonl`);
      break;
    }
    let record: RecordLine;
    let proof: ProofLine;
    try {
      record = JSON.parse(line) as RecordLine;
      proof = JSON.parse(next.value) as ProofLine;
    } catch {
      problems.push(`${where}: not JSON`);
      continue;
    }
    if (record.record_id !== proof.record_id || record.leaf_index !== proof.leaf_index) {
      problems.push(`${where}: record ${record.record_id} does not match its proof line`);
      continue;
    }
    const entry = Buffer.from(proof.entry, 'hex');
    const parsed = parseEntry(entry);
    if (!parsed || parsed.recordId !== record.record_id) {
      problems.push(`${where}: the entry of record ${record.record_id} is malformed or names another record`);
      continue;
    }
    if (proof.tree_size !== checkpoint.treeSize) {
      problems.push(
        `${where}: record ${record.record_id} is proven against tree size ${proof.tree_size}, the checkpoint has ${checkpoint.treeSize}`,
      );
      continue;
    }
    try {
      verifyInclusion(
        record.leaf_index,
        checkpoint.treeSize,
        leafHash(entry),
        proof.audit_path.map((hash) => Buffer.from(hash, 'base64')),
        checkpoint.rootHash,
      );
    } catch (error) {
      problems.push(`${where}: record ${record.record_id}: ${(error as Error).message}`);
      continue;
    }
    records += 1;
    let event: RecordEvent;
    try {
      event = JSON.parse(record.record) as RecordEvent;
    } catch {
      problems.push(`${where}: record ${record.record_id} is not JSON`);
      continue;
    }
    if (record.salt === null) {
      erasedRecords += 1;
      if (event.kind !== 'status') messageRecords.set(record.record_id, { erased: true });
      continue;
    }
    const salted = createHash('sha256').update(Buffer.from(record.salt, 'base64')).update(record.record, 'utf8').digest();
    if (!salted.equals(parsed.hash)) {
      problems.push(`${where}: record ${record.record_id} does not match its log entry (the record was changed)`);
      continue;
    }
    if (event.eventId !== record.record_id) {
      problems.push(`${where}: record ${record.record_id} holds another record's id`);
      continue;
    }
    if (event.kind === 'status') statusRecords.add(statusKeyOfEvent(event));
    else messageRecords.set(record.record_id, { digest: digest(expectedMessage(event)) });
  }
  if (!(await proofs.next()).done) problems.push('log/proofs.jsonl: more lines than log/records.jsonl');

  let messages = 0;
  if (existsSync(path.join(dir, 'messages.jsonl'))) {
    let row = 0;
    for await (const line of lines(path.join(dir, 'messages.jsonl'))) {
      row += 1;
      messages += 1;
      const message = JSON.parse(line) as Record<string, unknown> & {
        record_id: string;
        message_id: string;
        statuses: { status: string; occurred_at: string; error_code: number | null; error_title: string | null; pricing: unknown }[];
      };
      const where = `messages.jsonl line ${row} (record ${message.record_id})`;
      const backing = messageRecords.get(message.record_id);
      if (!backing) {
        problems.push(`${where}: not backed by a verified record`);
        continue;
      }
      if ('erased' in backing) {
        if (message.text !== null || message.content_json !== null) problems.push(`${where}: has content, but its record was erased`);
        continue;
      }
      const shown = digest({
        record_id: message.record_id,
        message_id: message.message_id,
        occurred_at: message.occurred_at,
        phone_number_id: message.phone_number_id,
        customer: message.customer,
        direction: message.direction,
        type: message.type,
        text: message.text,
        content_json: message.content_json,
        media_ids: message.media_ids,
        template_name: message.template_name,
        template_category: message.template_category,
        context_wa_message_id: message.context_wa_message_id,
        sentiment: message.sentiment,
      });
      if (shown !== backing.digest) problems.push(`${where}: differs from its verified record`);
      for (const status of message.statuses ?? [])
        if (!statusRecords.has(statusKey(message.message_id, status)))
          problems.push(`${where}: status ${status.status} at ${status.occurred_at} is not backed by a verified record`);
    }
  }
  return result({ records, erasedRecords, messages, checkpoint });
}

/** `archive verify <bundle> [--key <verifier key>]`: exit 0 when everything holds, 1 with the reasons otherwise. */
export async function runArchiveVerify(args: ParsedArgs, print: (text: string, json: unknown) => void): Promise<number> {
  const dir = args.positionals[2];
  if (!dir) throw new UsageError('archive verify needs the bundle directory');
  const key = option(args, 'key');
  const outcome = await verifyArchiveBundle(dir, key);
  const ok = outcome.problems.length === 0;
  if (!ok) {
    const listed = outcome.problems.slice(0, MAX_LISTED_PROBLEMS).map((problem) => `  ${problem}`);
    const more = outcome.problems.length - listed.length;
    process.stderr.write(`the bundle does NOT verify:\n${listed.join('\n')}\n${more > 0 ? `  … and ${more} more\n` : ''}`);
  }
  const keyNote =
    outcome.keySource === 'bundle'
      ? ' (checked with the key the bundle carries: this proves integrity, not origin; pass --key with the key from GetLogPublicKey)'
      : '';
  print(
    ok
      ? `verified: checkpoint ${outcome.checkpoint?.origin} size ${outcome.checkpoint?.treeSize} signed${keyNote}; ${outcome.records} records proven ` +
          `(${outcome.erasedRecords} erased), ${outcome.messages} messages backed by their records; every file matches manifest.json`
      : `verification failed: ${outcome.problems.length} problem(s)`,
    {
      ok,
      problems: outcome.problems,
      records: outcome.records,
      erased_records: outcome.erasedRecords,
      messages: outcome.messages,
      key_source: outcome.keySource,
      ...(outcome.checkpoint ? { origin: outcome.checkpoint.origin, tree_size: outcome.checkpoint.treeSize } : {}),
    },
  );
  return ok ? 0 : 1;
}
