import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES } from './api-key';
import { TenantsFileError, parseTenants } from './load-tenants-file';
import { hashApiKey } from './tenant-directory';

const A = hashApiKey('key-a');
const B = hashApiKey('key-b');

/** A file with one tenant `acme` whose `apiKeys` are the given flow-style entries (plus a tenant `globex`). */
function withKeys(keys: string, globexKeys = `[{ sha256: ${hashApiKey('key-globex')} }]`): string {
  const tenant = (id: string, apiKeys: string, phone: string) => `  - id: ${id}
    name: ${id}
    homeRegion: eu
    apiKeys: ${apiKeys}
    whatsapp: { wabaId: "1", appSecret: s, verifyToken: v, phoneNumbers: [{ id: "${phone}", displayPhoneNumber: "+1555", accessToken: t }] }
`;
  return `tenants:\n${tenant('acme', keys, '1')}${tenant('globex', globexKeys, '2')}`;
}

function problems(text: string): readonly string[] {
  try {
    parseTenants(text, {});
  } catch (error) {
    assert.ok(error instanceof TenantsFileError, String(error));
    return error.problems;
  }
  assert.fail('parsed');
}

test('a key without id or scopes gets id key_ + 12 hex digits of its hash and the default reach (messages and events)', () => {
  const [key] = parseTenants(withKeys(`[{ sha256: ${A} }]`), {}).get('acme')?.apiKeys ?? [];
  assert.deepEqual(key, { sha256: A, id: `key_${A.slice(0, 12)}`, scopes: ['messages:send', 'messages:read', 'events:read'] });
  assert.deepEqual(DEFAULT_API_KEY_SCOPES, ['messages:send', 'messages:read', 'events:read']);
});

test('configured ids and scopes are kept (scopes in canonical order, repeats once); the directory finds the key by key or hash', () => {
  const directory = parseTenants(
    withKeys(
      `[{ sha256: ${A}, id: ci-sender, scopes: [messages:send] }, { sha256: ${B}, id: auditor, scopes: [archive:export, archive:read, archive:read] }]`,
    ),
    {},
  );
  assert.deepEqual(
    directory.get('acme')?.apiKeys.map(({ id, scopes }) => ({ id, scopes })),
    [
      { id: 'ci-sender', scopes: ['messages:send'] },
      { id: 'auditor', scopes: ['archive:read', 'archive:export'] },
    ],
  );
  assert.equal(directory.authenticateApiKey('key-b')?.key.id, 'auditor');
  assert.equal(directory.authenticateApiKey('key-b')?.tenant.id, 'acme');
  assert.equal(directory.findApiKey(A)?.key.id, 'ci-sender');
  assert.equal(directory.authenticateApiKey('key-unknown'), undefined);
  assert.equal(directory.authenticateApiKey(''), undefined);
});

test('every scope of the issue is accepted', () => {
  const [key] = parseTenants(withKeys(`[{ sha256: ${A}, scopes: ${JSON.stringify(API_KEY_SCOPES)} }]`), {}).get('acme')?.apiKeys ?? [];
  assert.deepEqual(key.scopes, [
    'messages:send',
    'messages:read',
    'events:read',
    'media:write',
    'media:read',
    'templates:read',
    'optouts:write',
    'verify',
    'archive:read',
    'archive:export',
    'governance:admin',
  ]);
});

test('an unknown scope is a TenantsFileError naming its path and the scopes there are', () => {
  const found = problems(withKeys(`[{ sha256: ${A} }, { sha256: ${B}, scopes: [messages:send, archive:read, archive:write] }]`));
  assert.equal(found.length, 1, found.join('\n'));
  assert.match(found[0], /^tenants\.0\.apiKeys\.1\.scopes\.2: unknown scope "archive:write"; one of: messages:send, .*governance:admin$/);
  // Case matters: scopes are compared exactly.
  assert.match(
    problems(withKeys(`[{ sha256: ${A}, scopes: [Messages:Send] }]`))[0],
    /^tenants\.0\.apiKeys\.0\.scopes\.0: unknown scope "Messages:Send"/,
  );
  // A value that is not a string is named by its kind, never echoed (it could be long, nested or span lines; the
  // tenants-file fuzz test found one).
  const nested = problems(withKeys(`[{ sha256: ${A}, scopes: [[0, false, "     ", -1e186, null]] }]`));
  assert.match(nested[0], /^tenants\.0\.apiKeys\.0\.scopes\.0: must be a scope name \(a string\), not an array; one of: /);
  assert.ok(!nested[0].includes('1e+186') && !nested[0].includes('false'));
});

test('an empty scope list, a misspelt field, a bad id and an id used twice in one tenant are refused by path', () => {
  assert.deepEqual(problems(withKeys(`[{ sha256: ${A}, scopes: [] }]`)), [
    'tenants.0.apiKeys.0.scopes: list at least one scope, or leave scopes out for the default (messages:send, messages:read, events:read)',
  ]);
  assert.match(problems(withKeys(`[{ sha256: ${A}, scope: [archive:read] }]`))[0], /^tenants\.0\.apiKeys\.0: Unrecognized key: "scope"/);
  assert.match(problems(withKeys(`[{ sha256: ${A}, id: "has space" }]`))[0], /^tenants\.0\.apiKeys\.0\.id: must be 1 to 64/);
  assert.deepEqual(problems(withKeys(`[{ sha256: ${A}, id: ops }, { sha256: ${B}, id: ops }]`)), [
    'tenants.0.apiKeys.1.id: API key id "ops" is used twice in this tenant',
  ]);
  // An explicit id that equals another key's default id collides too.
  assert.deepEqual(problems(withKeys(`[{ sha256: ${A} }, { sha256: ${B}, id: key_${A.slice(0, 12)} }]`)), [
    `tenants.0.apiKeys.1.id: API key id "key_${A.slice(0, 12)}" is used twice in this tenant`,
  ]);
});

test('ids are unique per tenant only: two tenants may both name a key "ops"', () => {
  const directory = parseTenants(withKeys(`[{ sha256: ${A}, id: ops }]`, `[{ sha256: ${B}, id: ops }]`), {});
  assert.equal(directory.authenticateApiKey('key-a')?.tenant.id, 'acme');
  assert.equal(directory.authenticateApiKey('key-b')?.tenant.id, 'globex');
});
