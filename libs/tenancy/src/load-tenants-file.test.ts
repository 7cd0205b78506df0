/**
 * Regression tests for what the tenants-file fuzz properties (libs/testing/src/tenants-file.fuzz.test.ts) found,
 * each with its minimal counterexample, plus the bounds they rely on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_TENANTS_FILE_BYTES, TenantsFileError, loadTenantsFile, parseTenants } from './load-tenants-file';

const SHA = 'a'.repeat(64);
/** One valid tenant; `whatsapp` and `extra` lines are spliced in. */
function tenantYaml(options: { appSecret?: string; extra?: string } = {}): string {
  return `tenants:
  - id: acme
    name: Acme
    homeRegion: eu
    apiKeys: [{ sha256: ${SHA} }]
    whatsapp:
      wabaId: "100"
      appSecret: ${options.appSecret ?? 'sk_literal'}
      verifyToken: verify
      phoneNumbers: [{ id: "200", displayPhoneNumber: "+15550001111", accessToken: token }]
${options.extra ?? ''}`;
}

/** Asserts that parsing fails with a TenantsFileError whose problems are exactly `expected`. */
function assertProblems(text: string, expected: (string | RegExp)[], env: NodeJS.ProcessEnv = {}): TenantsFileError {
  try {
    parseTenants(text, env);
  } catch (error) {
    assert.ok(error instanceof TenantsFileError, `expected a TenantsFileError, got ${String(error)}`);
    assert.equal(error.problems.length, expected.length, error.message);
    expected.forEach((want, index) =>
      typeof want === 'string' ? assert.equal(error.problems[index], want) : assert.match(error.problems[index], want),
    );
    return error;
  }
  assert.fail('parsed');
}

test('a valid file parses', () => {
  assert.equal(parseTenants(tenantYaml(), {}).get('acme')?.whatsapp.appSecret, 'sk_literal');
});

test('found by fuzzing: a callback URL that is not a URL is named, not a TypeError', () => {
  assertProblems(tenantYaml({ extra: '    callbacks: [{ id: a, url: not a url, signingSecret: s }]\n' }), [
    'tenants.0.callbacks.0.url: Invalid URL',
    'tenants.0.callbacks.0.url: must be an https URL (http only for localhost/127.0.0.1/[::1])',
  ]);
});

test('found by fuzzing: `${constructor}` and other inherited names are not environment variables', () => {
  for (const name of ['constructor', 'hasOwnProperty', '__proto__', 'toString']) {
    assertProblems(tenantYaml({ appSecret: `\${${name}}` }), [`tenants.0.whatsapp.appSecret: environment variable ${name} is not set`]);
  }
  assertProblems(tenantYaml({ appSecret: '${EMPTY}' }), ['tenants.0.whatsapp.appSecret: environment variable EMPTY is not set'], {
    EMPTY: '',
  });
  assert.equal(parseTenants(tenantYaml({ appSecret: '${SET}' }), { SET: 'sk_env' }).get('acme')?.whatsapp.appSecret, 'sk_env');
});

test('found by fuzzing: YAML syntax errors are TenantsFileErrors with line and column, without the source text', () => {
  const error = assertProblems(tenantYaml({ appSecret: '"sk_unterminated' }), ['line 8, column 34: Missing closing "quote']);
  assert.doesNotMatch(error.message, /sk_unterminated/);
  assertProblems('%YAML 1.2', ['line 1, column 10: Missing directives-end indicator line']);
  // A block scalar header quotes what follows it in the library's message; ours does not.
  assert.doesNotMatch(
    assertProblems(tenantYaml({ appSecret: '|sk_after_header' }), ['line 8, column 19: unexpected character or token']).message,
    /sk_after_header/,
  );
});

test('found by fuzzing: an alias with no anchor is refused without quoting it (it may be a secret starting with *)', () => {
  const error = assertProblems('*ask_aaaaaaaaaaaa', [
    '(file): a YAML alias (*name) has no anchor (&name) before it; quote a value that starts with *',
  ]);
  assert.doesNotMatch(error.message, /ask_/);
});

test('found by fuzzing: a "billion laughs" document is refused by its alias count, not expanded', () => {
  const text = `l0: &l0 ["lol", "lol", "lol"]
l1: &l1 [*l0, *l0, *l0]
l2: &l2 [*l1, *l1, *l1]
l3: &l3 [*l2, *l2, *l2]
tenants: [{ id: acme, name: *l3 }]
`;
  assertProblems(text, ['(file): YAML aliases repeat too much content (more than 100 nodes)']);
  // A few aliases are fine.
  const reused = tenantYaml({ appSecret: '&shared sk_shared' }).replace('verifyToken: verify', 'verifyToken: *shared');
  assert.equal(parseTenants(reused, {}).get('acme')?.whatsapp.verifyToken, 'sk_shared');
});

test('found by fuzzing: deep nesting is refused by name at any depth (no stack overflow)', () => {
  assertProblems(`tenants: ${'['.repeat(40)}${']'.repeat(40)}`, ['(file): nested more than 32 levels deep']);
  assertProblems(`tenants: ${'['.repeat(5000)}${']'.repeat(5000)}`, [/^line 1, column \d+: nested more than 32 levels deep$/]);
});

test('non-string keys, unknown tags and several documents are refused', () => {
  assertProblems('? [a, b]\n: c\n', ['line 1, column 3: With stringKeys, all keys must be strings']);
  assertProblems(tenantYaml({ appSecret: '!vault sk_x' }), ['line 8, column 18: unknown tag (remove the !tag)']);
  assertProblems(`${tenantYaml()}---\ntenants: []\n`, [
    'line 11, column 1: more than one YAML document (---); the tenants file is one document',
  ]);
});

test('an empty file says what is missing; repeated ids are named by their path', () => {
  assertProblems('', ['(file): Invalid input: expected object, received null']);
  const twice = tenantYaml().replace('tenants:\n', `tenants:\n${tenantYaml().replace('tenants:\n', '').replace(SHA, 'b'.repeat(64))}`);
  assertProblems(twice, [
    'tenants.1.id: tenant id "acme" is configured twice',
    'tenants.1.whatsapp.phoneNumbers.0.id: phone number id "200" is configured twice',
  ]);
});

test('a file over the size limit is refused before it is parsed', () => {
  const text = `${tenantYaml()}#${'x'.repeat(MAX_TENANTS_FILE_BYTES)}\n`;
  assertProblems(text, [`(file): ${Buffer.byteLength(text)} bytes; at most ${MAX_TENANTS_FILE_BYTES} are accepted`]);
  const dir = mkdtempSync(path.join(tmpdir(), 'tenants-'));
  try {
    writeFileSync(path.join(dir, 'tenants.yaml'), text);
    assert.throws(
      () => loadTenantsFile(path.join(dir, 'tenants.yaml'), {}),
      (error: unknown) => error instanceof TenantsFileError && /bytes; at most/.test(error.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('thousands of problems are reported by the first 20', () => {
  const error = assertProblems(
    `tenants: [${Array(30).fill('1').join(', ')}]`,
    Array(30).fill(/^tenants\.\d+: Invalid input: expected object, received number$/),
  );
  assert.match(error.message, /… and 10 more$/);
  assert.equal(error.message.split('\n').length, 1 + 20 + 1);
});

test('sendLimits and optOut are optional; optOut defaults to the STOP keyword and no payloads; typos and bad values are named', () => {
  const plain = parseTenants(tenantYaml()).get('acme');
  assert.equal(plain?.sendLimits, undefined);
  assert.equal(plain?.optOut, undefined);

  const configured = parseTenants(
    tenantYaml({
      extra: '    sendLimits: { sendsPerSecond: 2.5, burst: 5, dailyQuota: 1000 }\n    optOut: { quickReplyPayloads: [OPT_OUT] }\n',
    }),
  ).get('acme');
  assert.deepEqual(configured?.sendLimits, { sendsPerSecond: 2.5, burst: 5, dailyQuota: 1000 });
  assert.deepEqual(configured?.optOut, { stopKeywords: ['STOP'], quickReplyPayloads: ['OPT_OUT'] });

  assertProblems(tenantYaml({ extra: '    sendLimits: { dailyQuota: 0, sendsPerSecnd: 5 }\n' }), [
    /^tenants\.0\.sendLimits\.dailyQuota: /,
    /^tenants\.0\.sendLimits: Unrecognized key: "sendsPerSecnd"/,
  ]);
  assertProblems(tenantYaml({ extra: '    optOut: { stopKeywords: ["  "] }\n' }), [/^tenants\.0\.optOut\.stopKeywords\.0: /]);
});

const ARCHIVE_SETTINGS = `    archive:
      rateCard:
        currency: EUR
        rates:
          - { country: DE, category: marketing, amountMicros: 131000, effectiveFrom: "2025-07-01" }
          - { country: "*", category: utility, amountMicros: 20000, effectiveFrom: "2025-07-01", effectiveUntil: "2026-01-01" }
      scorecard:
        name: support-basics
        criteria:
          - { name: fast-first-reply, weight: 2, kind: firstReplyWithin, minutes: 15 }
          - { name: no-abandoned-window, weight: 1, kind: noWindowClosedWhileWaiting }
          - { name: sentiment-holds, weight: 1, kind: sentimentNotWorse }
          - { name: greets, weight: 1, kind: keywordsRequired, keywords: [hola, hello], match: any }
          - { name: polite, weight: 0.5, kind: keywordsForbidden, keywords: [stupid] }
`;

test('archive settings: the rate card and the scorecard parse', () => {
  const archive = parseTenants(tenantYaml({ extra: ARCHIVE_SETTINGS }), {}).get('acme')?.archive;
  assert.equal(archive?.rateCard?.currency, 'EUR');
  assert.deepEqual(archive?.rateCard?.rates[1], {
    country: '*',
    category: 'utility',
    amountMicros: 20_000,
    effectiveFrom: '2025-07-01',
    effectiveUntil: '2026-01-01',
  });
  assert.deepEqual(archive?.scorecard?.criteria[3], {
    name: 'greets',
    weight: 1,
    kind: 'keywordsRequired',
    keywords: ['hola', 'hello'],
    match: 'any',
  });
  assert.equal(parseTenants(tenantYaml(), {}).get('acme')?.archive, undefined);
});

test('archive settings: a bad setting fails fast, named by its path', () => {
  const bad = (replace: string, by: string) => tenantYaml({ extra: ARCHIVE_SETTINGS.replace(replace, by) });
  assertProblems(bad('currency: EUR', 'currency: euro'), ['tenants.0.archive.rateCard.currency: must be an ISO 4217 code, e.g. EUR']);
  assertProblems(bad('country: DE', 'country: Germany'), [
    'tenants.0.archive.rateCard.rates.0.country: must be an ISO 3166-1 alpha-2 code (DE) or * (every other country)',
  ]);
  assertProblems(bad('amountMicros: 131000', 'amountMicros: 0.13'), [/^tenants\.0\.archive\.rateCard\.rates\.0\.amountMicros: /]);
  assertProblems(bad('effectiveFrom: "2025-07-01" }', 'effectiveFrom: "2025-02-30" }'), [
    'tenants.0.archive.rateCard.rates.0.effectiveFrom: is not a calendar date',
  ]);
  assertProblems(bad('effectiveUntil: "2026-01-01"', 'effectiveUntil: "2025-07-01"'), [
    'tenants.0.archive.rateCard.rates.1.effectiveUntil: must be after effectiveFrom',
  ]);
  assertProblems(bad('minutes: 15', 'minutes: 0'), [/^tenants\.0\.archive\.scorecard\.criteria\.0\.minutes: /]);
  assertProblems(bad('weight: 2', 'weight: -1'), [/^tenants\.0\.archive\.scorecard\.criteria\.0\.weight: /]);
  assertProblems(bad('kind: sentimentNotWorse', 'kind: sentimentBetter'), [/^tenants\.0\.archive\.scorecard\.criteria\.2\.kind: /]);
  assertProblems(bad('kind: noWindowClosedWhileWaiting', 'kind: noWindowClosedWhileWaiting, minutes: 3'), [
    /^tenants\.0\.archive\.scorecard\.criteria\.1: .*minutes/,
  ]);
  assertProblems(bad('name: polite', 'name: greets'), ['tenants.0.archive.scorecard.criteria: criterion names must be unique']);
  assertProblems(bad('keywords: [stupid]', 'keywords: []'), [/^tenants\.0\.archive\.scorecard\.criteria\.4\.keywords: /]);
  assertProblems(bad('scorecard:', 'scorecards:'), [/^tenants\.0\.archive: .*scorecards/]);
});

test('verification is optional: a default template (language en_US unless given) and hourly limits; bad values are named', () => {
  assert.equal(parseTenants(tenantYaml()).get('acme')?.verification, undefined);
  const configured = parseTenants(
    tenantYaml({
      extra: '    verification: { defaultTemplate: { name: login_code }, sendsPerNumberPerHour: 3, sendsPerTenantPerHour: 500 }\n',
    }),
  ).get('acme');
  assert.deepEqual(configured?.verification, {
    defaultTemplate: { name: 'login_code', language: 'en_US' },
    sendsPerNumberPerHour: 3,
    sendsPerTenantPerHour: 500,
  });
  assertProblems(tenantYaml({ extra: '    verification: { sendsPerNumberPerHour: 0, defaultTemplat: { name: x } }\n' }), [
    /^tenants\.0\.verification\.sendsPerNumberPerHour: /,
    /^tenants\.0\.verification: Unrecognized key: "defaultTemplat"/,
  ]);
});

test('governance: retention mode and days; media retention from either setting, never two different ones', () => {
  const tenant = (extra: string) => parseTenants(tenantYaml({ extra }), {}).get('acme');
  assert.equal(tenant('')?.governance, undefined);
  assert.deepEqual(tenant('    governance: { archiveRetentionDays: 2555 }')?.governance, {
    mode: 'operational',
    archiveRetentionDays: 2555,
  });
  const compliance = tenant('    governance: { mode: compliance, archiveRetentionDays: 2190, mediaRetentionDays: 400 }');
  assert.equal(compliance?.governance?.mode, 'compliance');
  assert.deepEqual(compliance?.media, { retentionDays: 400 }, 'media-store reads one setting');
  assert.deepEqual(tenant('    media: { retentionDays: 30 }')?.media, { retentionDays: 30 }, 'the older setting still works');
  assert.deepEqual(tenant('    media: { retentionDays: 30 }\n    governance: { mediaRetentionDays: 30 }')?.media, { retentionDays: 30 });
  assertProblems(tenantYaml({ extra: '    media: { retentionDays: 30 }\n    governance: { mediaRetentionDays: 31 }' }), [
    'tenants.0.governance.mediaRetentionDays: differs from media.retentionDays (30); set one of them',
  ]);
  assertProblems(tenantYaml({ extra: '    governance: { mode: worm, archiveRetentionDays: 0, purge: true }' }), [
    /^tenants\.0\.governance\.mode: /,
    /^tenants\.0\.governance\.archiveRetentionDays: /,
    /^tenants\.0\.governance: .*purge/,
  ]);
});
