/**
 * The RPC → scope table against the protos and the docs: every method of every service of every .proto under proto/
 * has a scope unless its service is internal, the table names no method that does not exist, and docs/governance.md
 * ("API key scopes") lists exactly the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_ROOT } from '@waygate/proto';
import { API_KEY_SCOPES } from '@waygate/tenancy';
import { INTERNAL_SERVICES, RPC_SCOPES } from './rpc-scopes';

/** Every .proto file under proto/, relative to it. */
function protoFiles(dir = PROTO_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(full);
    return entry.name.endsWith('.proto') ? [path.relative(PROTO_ROOT, full)] : [];
  });
}

/** Every service the protos define, by fully-qualified name, with its method names. */
function protoServices(): Map<string, string[]> {
  const files = protoFiles();
  assert.ok(files.length >= 10, `found only ${files.length} proto files under ${PROTO_ROOT}`);
  const definition = loadSync(files, { includeDirs: [PROTO_ROOT, path.dirname(require.resolve('protobufjs/package.json'))] });
  const services = new Map<string, string[]>();
  for (const [name, entry] of Object.entries(definition)) {
    // Message and enum types carry a `format`; a service is an object of methods, each with its gRPC path.
    if ('format' in entry) continue;
    const methods = Object.values(entry as Record<string, { path?: unknown }>).map((method) => method.path);
    if (methods.length === 0 || !methods.every((p) => typeof p === 'string')) continue;
    services.set(
      name,
      (methods as string[]).map((p) => p.slice(p.lastIndexOf('/') + 1)),
    );
  }
  return services;
}

/** What is wrong with `table` for `services`, one line per RPC (empty when nothing is). */
function tableProblems(services: Map<string, string[]>, table: typeof RPC_SCOPES, internal: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [service, methods] of services) {
    if (internal.includes(service)) {
      if (table[service]) problems.push(`${service} is internal (no API key may call it) but has scopes in the table`);
      continue;
    }
    for (const method of methods)
      if (!table[service]?.[method]) problems.push(`/${service}/${method} is a tenant RPC with no scope in libs/grpc/src/rpc-scopes.ts`);
  }
  for (const [service, methods] of Object.entries(table))
    for (const [method, scope] of Object.entries(methods)) {
      if (!services.get(service)?.includes(method)) problems.push(`/${service}/${method} is in the scope table but in no proto`);
      if (!(API_KEY_SCOPES as readonly string[]).includes(scope)) problems.push(`/${service}/${method} has the unknown scope ${scope}`);
    }
  for (const service of internal) if (!services.has(service)) problems.push(`internal service ${service} is in no proto`);
  return problems;
}

test('every RPC of every tenant-facing service in proto/ has a scope, and the table names only RPCs that exist', () => {
  const services = protoServices();
  // The services are all there (a loader that found nothing would pass the checks below vacuously).
  for (const name of ['MessagingService', 'ReceiptService', 'InboundService', 'MediaService', 'VerificationService', 'ArchiveService'])
    assert.ok(
      [...services.keys()].some((s) => s.endsWith(`.${name}`)),
      name,
    );
  assert.ok(services.has('waygate.governance.v1.GovernanceService') && services.has('waygate.governance.v1.ArchiveLogService'));
  assert.deepEqual(tableProblems(services, RPC_SCOPES, INTERNAL_SERVICES), []);
});

test('the check names the RPC: a method missing from the table, one the protos lack, and a scoped internal service', () => {
  const services = protoServices();
  const { CancelMessage: _removed, ...messaging } = RPC_SCOPES['waygate.messaging.v1.MessagingService'];
  const broken = {
    ...RPC_SCOPES,
    'waygate.messaging.v1.MessagingService': { ...messaging, SendMessages: 'messages:send' as const },
    'waygate.delivery.v1.DeliveryAdminService': { GetDelivery: 'messages:read' as const },
  };
  assert.deepEqual(tableProblems(services, broken, INTERNAL_SERVICES).sort(), [
    '/waygate.messaging.v1.MessagingService/CancelMessage is a tenant RPC with no scope in libs/grpc/src/rpc-scopes.ts',
    '/waygate.messaging.v1.MessagingService/SendMessages is in the scope table but in no proto',
    'waygate.delivery.v1.DeliveryAdminService is internal (no API key may call it) but has scopes in the table',
  ]);
  // A service the table does not know and that is not internal: every one of its RPCs is named.
  const withoutGovernance = Object.fromEntries(Object.entries(RPC_SCOPES).filter(([s]) => s !== 'waygate.governance.v1.GovernanceService'));
  const missing = tableProblems(services, withoutGovernance, INTERNAL_SERVICES);
  assert.equal(missing.length, services.get('waygate.governance.v1.GovernanceService')?.length);
  assert.ok(
    missing.includes('/waygate.governance.v1.GovernanceService/EraseCustomer is a tenant RPC with no scope in libs/grpc/src/rpc-scopes.ts'),
  );
});

/** The table as docs/governance.md shows it: one row per RPC, `| `/service/Method` | `scope` |`, in table order. */
function docsRows(table: typeof RPC_SCOPES): string[] {
  return Object.entries(table).flatMap(([service, methods]) =>
    Object.entries(methods).map(([method, scope]) => `| \`/${service}/${method}\` | \`${scope}\` |`),
  );
}

/** The text of one `## heading` section of a markdown file. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

test('docs/governance.md, "API key scopes", lists every RPC with its scope, exactly as the table says', () => {
  const docs = readFileSync(path.join(PROTO_ROOT, '..', 'docs', 'governance.md'), 'utf8');
  const listed = section(docs, 'API key scopes')
    .split('\n')
    .filter((line) => /^\| `\//.test(line))
    .map((line) => line.replace(/\s+\|/g, ' |').replace(/\|\s+/g, '| ').trim());
  const expected = docsRows(RPC_SCOPES);
  assert.deepEqual(
    listed,
    expected,
    `docs/governance.md ("API key scopes") differs from libs/grpc/src/rpc-scopes.ts; its rows should be:\n${expected.join('\n')}`,
  );
});
