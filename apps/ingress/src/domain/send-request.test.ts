import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { tenantsYaml } from '@waygate/testing';
import { validateSendRequest, type SendRequest } from './send-request';

const tenant = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200'] }])).get('acme') as Tenant;
const request: SendRequest = {
  to: '+4915112345678',
  content: { kind: 'text', body: 'hi', previewUrl: false },
  idempotencyKey: 'k1',
  validity: undefined,
  phoneNumberId: '',
  replyTo: '',
};
const withBody = (body: string): SendRequest => ({ ...request, content: { kind: 'text', body, previewUrl: false } });

/** The [field, reason, description] of every violation `validateSendRequest` throws for `input`. */
function violations(input: SendRequest): [string, string, string][] {
  try {
    validateSendRequest(input, tenant);
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError);
    return error.violations.map((v) => [v.field, v.reason, v.description]);
  }
  return [];
}

const CONTROL = 'must not contain control characters other than tab, line feed and carriage return';

test('text bodies with C0 control characters (NUL, BEL, ESC, ...), DEL or C1 controls are refused, naming the first', () => {
  for (const [body, found] of [
    ['\u0000', 'U+0000 at character 1'],
    ['ding\u0007', 'U+0007 at character 5'],
    ['\u001b[31mred', 'U+001B at character 1'],
    ['a\u000bb', 'U+000B at character 2'],
    ['a\u000cb', 'U+000C at character 2'],
    ['😀\u001f', 'U+001F at character 2'],
    ['del\u007f', 'U+007F at character 4'],
    ['next line\u0085', 'U+0085 at character 10'],
    ['csi\u009b', 'U+009B at character 4'],
  ]) {
    assert.deepEqual(violations(withBody(body)), [['text.body', 'INVALID_CHARACTER', `${CONTROL} (found ${found})`]], JSON.stringify(body));
  }
});

test('tab, line feed and carriage return are allowed, and so is any printable text', () => {
  for (const body of [
    'line 1\nline 2',
    'a\tb',
    'crlf\r\n',
    'Grüße 👋🏽 مرحبا 你好',
    'family 👨‍👩‍👧 (zero-width joiners)',
    '\u00a0non-breaking',
  ]) {
    assert.deepEqual(violations(withBody(body)), [], JSON.stringify(body));
    assert.deepEqual(validateSendRequest(withBody(body), tenant).content, { kind: 'text', body, previewUrl: false });
  }
});

test('an unpaired surrogate is refused like a control character (gRPC cannot carry one, but the domain is not only gRPC)', () => {
  assert.deepEqual(violations(withBody('a\ud800b')), [['text.body', 'INVALID_CHARACTER', `${CONTROL} (found U+D800 at character 2)`]]);
});

test('a body too long and with control characters gets both violations; a blank one just REQUIRED', () => {
  assert.deepEqual(
    violations(withBody(`\u0000${'x'.repeat(4096)}`)).map(([field, reason]) => [field, reason]),
    [
      ['text.body', 'TOO_LONG'],
      ['text.body', 'INVALID_CHARACTER'],
    ],
  );
  assert.deepEqual(violations(withBody(' \t\n ')), [['text.body', 'REQUIRED', 'must not be empty']]);
});

test('the other free-text fields refuse control characters too: idempotency_key (printable ASCII), to (E.164), phone_number_id', () => {
  assert.deepEqual(
    violations({ ...request, idempotencyKey: 'k\u0000' }).map(([field, reason]) => [field, reason]),
    [['idempotency_key', 'INVALID_FORMAT']],
  );
  assert.deepEqual(
    violations({ ...request, to: '+4915112345678\u0000' }).map(([field, reason]) => [field, reason]),
    [['to', 'INVALID_FORMAT']],
  );
  assert.deepEqual(
    violations({ ...request, phoneNumberId: '200\u0007' }).map(([field, reason]) => [field, reason]),
    [['phone_number_id', 'UNKNOWN']],
  );
});

const RANGE = 'must be at least 30 seconds and at most 2592000 seconds (30 days)';
const NANOS = 'not a valid google.protobuf.Duration: nanos must be between -999,999,999 and 999,999,999 and have the sign of seconds';

test('a validity that is not a Duration is refused: nanos beyond 999,999,999, or signed against seconds', () => {
  for (const validity of [
    { seconds: 10, nanos: 2_000_000_000 },
    { seconds: 60, nanos: 1_000_000_000 },
    { seconds: 60, nanos: -1_000_000_000 },
    { seconds: -1, nanos: 5 },
    { seconds: 60, nanos: -1 },
  ]) {
    assert.deepEqual(violations({ ...request, validity }), [['validity.nanos', 'INVALID_FORMAT', NANOS]], JSON.stringify(validity));
  }
  assert.deepEqual(violations({ ...request, validity: { seconds: 315_576_000_001, nanos: 0 } }), [
    ['validity.seconds', 'INVALID_FORMAT', 'not a valid google.protobuf.Duration: seconds must be an integer within ±315,576,000,000'],
  ]);
});

test('a validity below 30 seconds (1 ns, zero, negative) or above 30 days is OUT_OF_RANGE', () => {
  for (const validity of [
    { seconds: 0, nanos: 1 },
    { seconds: 0, nanos: 0 },
    { seconds: 29, nanos: 999_999_999 },
    { seconds: -60, nanos: 0 },
    { seconds: -1, nanos: -5 },
    { seconds: 2_592_000, nanos: 1 },
    { seconds: 2_592_001, nanos: 0 },
  ]) {
    assert.deepEqual(violations({ ...request, validity }), [['validity', 'OUT_OF_RANGE', RANGE]], JSON.stringify(validity));
  }
});

test('a validity from 30 seconds to 30 days is used as given, nanos included; none means the category default', () => {
  assert.equal(validateSendRequest({ ...request, validity: { seconds: 30, nanos: 0 } }, tenant).validitySeconds, 30);
  assert.equal(validateSendRequest({ ...request, validity: { seconds: 90, nanos: 500_000_000 } }, tenant).validitySeconds, 90.5);
  assert.equal(validateSendRequest({ ...request, validity: { seconds: 2_592_000, nanos: 0 } }, tenant).validitySeconds, 2_592_000);
  assert.equal(validateSendRequest(request, tenant).validitySeconds, 2_592_000);
});
