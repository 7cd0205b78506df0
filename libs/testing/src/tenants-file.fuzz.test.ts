/**
 * Property tests of the tenants-file parser (`parseTenants` in @waygate/tenancy): whatever text an operator puts in
 * WAYGATE_TENANTS_FILE, the parser answers with a directory whose every value has the documented shape, or with a
 * TenantsFileError that names each bad setting (never another exception type, never a secret, never a hang).
 * It lives here, not beside the parser, because @waygate/tenancy is a domain lib and may not depend on this one.
 * Runs: WAYGATE_FUZZ_RUNS (see fuzz-parameters.ts); `npm run fuzz` runs many more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { API_KEY_SCOPES, TenantDirectory, TenantsFileError, parseTenants } from '@waygate/tenancy';
import { fuzzParameters } from './fuzz-parameters';

const ENV_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
/** Secrets are distinctive, so that a leak into an error message is detectable. */
const secretArb = fc.stringMatching(/^[0-9a-f]{12}$/).map((hex) => `sk_${hex}`);
/** Names a `${NAME}` reference may use: set, unset, empty, and names every JS object inherits. */
const ENV_NAMES = ['ACME_SECRET', 'OTHER_SECRET', 'EMPTY_SECRET', 'UNSET_SECRET', 'constructor', '__proto__', 'toString', 'hasOwnProperty'];
const ENV: NodeJS.ProcessEnv = { ACME_SECRET: 'sk_fromenv00001', OTHER_SECRET: 'sk_fromenv00002', EMPTY_SECRET: '' };
const ENV_SECRETS = ['sk_fromenv00001', 'sk_fromenv00002'];

/** Anything in a field: what JSON can say, YAML-special strings, and any code points. */
const oddValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('', ' ', '~', 'null', 'yes', '0x1F', '1e400', '.inf', '-', '${}', '${1X}', '$ACME_SECRET', 'http://', 'ftp://x'),
  fc.constantFrom(...ENV_NAMES).map((name) => `\${${name}}`),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
);

const OMIT = Symbol('omit');
/** A field that is mostly valid, sometimes odd, sometimes missing. */
function field<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 30, arbitrary: valid }, { weight: 2, arbitrary: oddValueArb }, { weight: 1, arbitrary: fc.constant(OMIT) });
}
function withoutOmitted(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== OMIT));
}

const idArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,12}$/);
const secretFieldArb = fc.oneof(
  { weight: 3, arbitrary: secretArb },
  { weight: 1, arbitrary: fc.constantFrom(...ENV_NAMES).map((name) => `\${${name}}`) },
);
const phoneNumberArb = fc
  .record({
    id: field(fc.stringMatching(/^[0-9]{3,6}$/)),
    displayPhoneNumber: field(fc.constant('+15550001111')),
    accessToken: field(secretFieldArb),
    throughputMps: fc.oneof(fc.constant(OMIT), field(fc.integer({ min: -5, max: 1200 }))),
  })
  .map(withoutOmitted);
const callbackArb = fc
  .record({
    id: field(idArb),
    url: field(
      fc.oneof(
        fc.constantFrom(
          'https://hooks.example/x',
          'http://127.0.0.1:9/cb',
          'http://[::1]/cb',
          'http://example.com/cb',
          'https://',
          'not a url',
        ),
        fc.webUrl(),
      ),
    ),
    signingSecret: field(secretFieldArb),
  })
  .map(withoutOmitted);
const tenantArb = fc
  .record({
    id: field(idArb),
    name: field(fc.string({ minLength: 1, maxLength: 12 })),
    homeRegion: field(fc.constantFrom('eu', 'us', 'EU', 'ap')),
    apiKeys: field(
      fc.array(
        fc
          .record({
            sha256: field(fc.stringMatching(/^[0-9a-f]{64}$/)),
            id: fc.oneof(fc.constant(OMIT), field(fc.stringMatching(/^[a-z0-9_]{1,6}$/))),
            scopes: fc.oneof(
              fc.constant(OMIT),
              field(fc.array(fc.constantFrom(...API_KEY_SCOPES, 'archive:write', 'Messages:Send', ''), { maxLength: 4 })),
            ),
          })
          .map(withoutOmitted),
        { maxLength: 3 },
      ),
    ),
    whatsapp: field(
      fc
        .record({
          wabaId: field(fc.stringMatching(/^[0-9]{3,8}$/)),
          appSecret: field(secretFieldArb),
          verifyToken: field(secretFieldArb),
          phoneNumbers: field(fc.array(phoneNumberArb, { maxLength: 3 })),
        })
        .map(withoutOmitted),
    ),
    callbacks: fc.oneof(fc.constant(OMIT), field(fc.array(callbackArb, { maxLength: 3 }))),
  })
  .map(withoutOmitted);
/** A tenants document as an object: mostly the documented shape, with odd values, missing keys and unknown keys. */
const documentArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ tenants: field(fc.array(tenantArb, { maxLength: 4 })) }).map(withoutOmitted) },
  { weight: 1, arbitrary: oddValueArb },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), oddValueArb, { maxKeys: 4 }) },
);

/** YAML-ish fragments, so that random text often gets past the first character. */
const YAML_TOKENS = [
  'tenants:',
  '\n',
  '\n  ',
  '  ',
  '- ',
  'id: ',
  'name: ',
  'appSecret: ',
  ': ',
  '? ',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '"',
  "'",
  '|',
  '>-',
  '#',
  '---',
  '...',
  '%YAML 1.2',
  '%TAG ! tag:x,2000:',
  '!!binary ',
  '!!set ',
  '!foo ',
  '!!str ',
  '<<: ',
  '~',
  'null',
  '\t',
  '\r\n',
  '\\x00',
  '\u0000',
  '\uFEFF',
  '${ACME_SECRET}',
  '${constructor}',
  'sk_aaaaaaaaaaaa',
  '1e400',
  '@',
  '`',
];
const yamlSoupArb = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((tokens) => tokens.join(''));

function serialize(document: unknown, style: 'yaml' | 'json' | 'flow'): string {
  if (style === 'json') return JSON.stringify(document) ?? '';
  return toYaml(document, style === 'flow' ? { collectionStyle: 'flow' } : {});
}

/** What every parse must satisfy: a directory of well-formed values, or a TenantsFileError naming each problem. */
function checkOutcome(text: string, env: NodeJS.ProcessEnv, secrets: readonly string[]): void {
  let directory: TenantDirectory;
  try {
    directory = parseTenants(text, env);
  } catch (error) {
    assert.ok(error instanceof TenantsFileError, `unexpected ${(error as Error)?.constructor?.name}: ${String(error)}`);
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) {
      assert.match(problem, /^\S.*: \S/, 'a problem names where, then what');
      assert.ok(!problem.includes('\n') && problem.length <= 300, `one short line: ${JSON.stringify(problem.slice(0, 400))}`);
    }
    for (const secret of [...secrets, ...ENV_SECRETS])
      assert.ok(!error.message.includes(secret), `the error shows a secret: ${error.message}`);
    return;
  }
  assert.ok(directory instanceof TenantDirectory);
  const isSecret = (value: unknown) => typeof value === 'string' && value.length > 0 && !ENV_REFERENCE.test(value);
  for (const tenant of directory.tenants) {
    assert.match(tenant.id, /^[a-z0-9][a-z0-9-]{0,62}$/);
    assert.ok(typeof tenant.name === 'string' && tenant.name.length > 0);
    assert.ok(['eu', 'us'].includes(tenant.homeRegion));
    assert.ok(tenant.apiKeys.length > 0 && tenant.apiKeys.every((key) => /^[0-9a-f]{64}$/.test(key.sha256)));
    assert.equal(new Set(tenant.apiKeys.map((key) => key.id)).size, tenant.apiKeys.length, 'key ids are unique per tenant');
    for (const key of tenant.apiKeys)
      assert.ok(key.scopes.length > 0 && key.scopes.every((scope) => (API_KEY_SCOPES as readonly string[]).includes(scope)));
    assert.ok(typeof tenant.whatsapp.wabaId === 'string' && tenant.whatsapp.wabaId.length > 0);
    assert.ok(isSecret(tenant.whatsapp.appSecret), `appSecret ${String(tenant.whatsapp.appSecret)}`);
    assert.ok(isSecret(tenant.whatsapp.verifyToken), `verifyToken ${String(tenant.whatsapp.verifyToken)}`);
    assert.ok(tenant.whatsapp.phoneNumbers.length > 0);
    for (const number of tenant.whatsapp.phoneNumbers) {
      assert.ok(typeof number.id === 'string' && number.id.length > 0);
      assert.ok(isSecret(number.accessToken), `accessToken ${String(number.accessToken)}`);
      assert.ok(Number.isInteger(number.throughputMps) && number.throughputMps >= 1 && number.throughputMps <= 1000);
    }
    for (const callback of tenant.callbacks) {
      assert.match(callback.id, /^[a-z0-9][a-z0-9-]{0,62}$/);
      assert.ok(isSecret(callback.signingSecret), `signingSecret ${String(callback.signingSecret)}`);
      const url = new URL(callback.url);
      assert.ok(url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname), callback.url);
    }
  }
}

/** The secrets a document holds, to check that no error message shows them. */
function secretsIn(text: string): string[] {
  return [...text.matchAll(/sk_[0-9a-f]{12}/g)].map((match) => match[0]);
}

test('tenants file: any document shape gives a well-formed directory or errors naming the bad settings', (t) => {
  const parameters = fuzzParameters();
  t.diagnostic(`${parameters.numRuns} runs`);
  fc.assert(
    fc.property(documentArb, fc.constantFrom('yaml', 'json', 'flow') as fc.Arbitrary<'yaml' | 'json' | 'flow'>, (document, style) => {
      const text = serialize(document, style);
      checkOutcome(text, ENV, secretsIn(text));
    }),
    parameters,
  );
});

test('tenants file: broken YAML (cut, spliced, random text) is refused without showing the secrets it holds', (t) => {
  const parameters = fuzzParameters();
  t.diagnostic(`${parameters.numRuns} runs`);
  const validDocumentArb = fc.record({ tenants: fc.array(tenantArb, { minLength: 1, maxLength: 2 }) });
  const editArb = fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 20 }),
    insert: fc.oneof(fc.constantFrom(...YAML_TOKENS), fc.string({ unit: 'binary', maxLength: 5 })),
  });
  fc.assert(
    fc.property(
      fc.oneof(
        fc
          .tuple(
            validDocumentArb,
            fc.constantFrom('yaml', 'flow') as fc.Arbitrary<'yaml' | 'flow'>,
            fc.array(editArb, { minLength: 1, maxLength: 4 }),
          )
          .map(([document, style, edits]) =>
            edits.reduce(
              (text, edit) => {
                const at = edit.at % (text.length + 1);
                return text.slice(0, at) + edit.insert + text.slice(at + edit.remove);
              },
              serialize(document, style),
            ),
          ),
        yamlSoupArb,
        fc.string({ unit: 'binary', maxLength: 200 }),
      ),
      (text) => checkOutcome(text, ENV, secretsIn(text)),
    ),
    parameters,
  );
});

test('tenants file: alias bombs, deep nesting and non-string keys are refused quickly, by name', (t) => {
  const parameters = fuzzParameters(0.5);
  t.diagnostic(`${parameters.numRuns} runs`);
  const laughsArb = fc
    .record({ levels: fc.integer({ min: 1, max: 12 }), fanout: fc.integer({ min: 1, max: 12 }) })
    .map(({ levels, fanout }) => {
      const lines = [`l0: &l0 [${Array(fanout).fill('"lol"').join(', ')}]`];
      for (let level = 1; level < levels; level++)
        lines.push(
          `l${level}: &l${level} [${Array(fanout)
            .fill(`*l${level - 1}`)
            .join(', ')}]`,
        );
      return `${lines.join('\n')}\ntenants: [{ id: acme, name: *l${levels - 1} }]\n`;
    });
  const deepArb = fc
    .record({
      depth: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 64 }) },
        { weight: 1, arbitrary: fc.integer({ min: 65, max: 3000 }) },
      ),
      style: fc.constantFrom('seq', 'map', 'block'),
    })
    .map(({ depth, style }) => {
      if (style === 'seq') return `tenants: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
      if (style === 'map') return `tenants: [{ name: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)} }]\n`;
      const levels = Math.min(depth, 400);
      return `tenants:\n${Array.from({ length: levels }, (_, level) => `${' '.repeat(level + 1)}k${level}:`).join('\n')} x\n`;
    });
  const keysArb = fc
    .array(
      fc.constantFrom(
        '? [a, b]\n: c',
        '? {a: 1}\n: c',
        '1: x',
        '~: y',
        'true: z',
        '[a]: q',
        '{a: 1}: v',
        '.inf: w',
        '"tenants": []',
        'tenants: []',
      ),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    .map((entries) => `${entries.join('\n')}\n`);
  fc.assert(
    fc.property(fc.oneof(laughsArb, deepArb, keysArb), (text) => {
      const started = performance.now();
      checkOutcome(text, ENV, []);
      assert.ok(performance.now() - started < 2000, `parsing took ${Math.round(performance.now() - started)} ms`);
    }),
    parameters,
  );
});
