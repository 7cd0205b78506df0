/**
 * Property tests of SendMessage validation (`validateSendRequest`): any request is either accepted with normalized
 * values that keep every documented rule, or refused with an InvalidArgumentError whose field violations are exactly
 * the fields an independent model of the rules (../testing/send-request-model.ts) finds bad. Never another
 * exception. Runs: WAYGATE_FUZZ_RUNS (see libs/testing/src/fuzz-parameters.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidArgumentError } from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { fuzzParameters, tenantsYaml } from '@waygate/testing';
import { expectedViolations, REASONS } from '../testing/send-request-model';
import { validateSendRequest, type SendRequest } from './send-request';

const tenant = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200', '201'] }])).get(
  'acme',
) as Tenant;

/** Strings from every corner: printable, control characters, any code point, lone surrogates, long ones. */
const codeUnitArb = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const anyStringArb = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: codeUnitArb, maxLength: 10 }),
  fc.constantFrom('', ' ', '\t\n\r', '\u00a0', '\ufeff', '\u2028'),
);
const toArb = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^\+[1-9][0-9]{7,14}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^\+?[0-9]{0,17}$/) },
  { weight: 1, arbitrary: anyStringArb },
);
const bodyArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
  { weight: 4, arbitrary: anyStringArb },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 4090, max: 4100 })).map(([s, n]) => s.padEnd(n, 'é')) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 4090, max: 4100 }), fc.constantFrom('😀', 'a', '\u0000')).map(([n, c]) => c.repeat(n)),
  },
);
const keyArb = fc.oneof({ weight: 8, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,130}$/) }, { weight: 1, arbitrary: anyStringArb });
/** Durations of every shape: in range, around the bounds, malformed (nanos out of range or signed against seconds). */
const validityArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.record({ seconds: fc.integer({ min: 30, max: 2_591_999 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
  },
  fc.record({ seconds: fc.integer({ min: -100, max: 3_000_000 }), nanos: fc.integer({ min: -999_999_999, max: 999_999_999 }) }),
  fc.record({
    seconds: fc.constantFrom(0, 1, 29, 30, 31, 2_591_999, 2_592_000, 2_592_001, -30, 315_576_000_000, 315_576_000_001, -315_576_000_001),
    nanos: fc.constantFrom(0, 1, -1, 999_999_999, 1_000_000_000, 2_000_000_000, -2_147_483_648, 2_147_483_647),
  }),
  fc.record({ seconds: fc.integer(), nanos: fc.integer() }),
  fc.record({ seconds: fc.constantFrom(2 ** 63, -(2 ** 63), Number.NaN, 1.5), nanos: fc.integer() }),
);
const requestArb: fc.Arbitrary<SendRequest> = fc.record({
  to: toArb,
  content: fc.option(fc.record({ kind: fc.constant('text' as const), body: bodyArb, previewUrl: fc.boolean() }), { nil: undefined }),
  idempotencyKey: keyArb,
  validity: validityArb,
  phoneNumberId: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('', '200', '201') },
    { weight: 1, arbitrary: fc.constantFrom('300', '200 ', '２００') },
    { weight: 1, arbitrary: anyStringArb },
  ),
  replyTo: fc.constant(''),
});

test('SendMessage validation: accepted with normalized values, or exactly the bad fields named', (t) => {
  const parameters = fuzzParameters();
  t.diagnostic(`${parameters.numRuns} runs`);
  fc.assert(
    fc.property(requestArb, (request) => {
      const expected = expectedViolations(request, ['200', '201']);
      let valid;
      try {
        valid = validateSendRequest(request, tenant);
      } catch (error) {
        assert.ok(error instanceof InvalidArgumentError, `unexpected ${String(error)}`);
        assert.deepEqual(new Set(error.violations.map((v) => v.field)), expected);
        for (const violation of error.violations) {
          assert.ok(REASONS.has(violation.reason), violation.reason);
          assert.ok(violation.description.length > 0 && violation.description.length <= 200, violation.description);
          // Descriptions never echo what the caller sent (bodies are never logged or returned).
          for (const given of [
            request.content?.kind === 'text' ? request.content.body : undefined,
            request.to,
            request.idempotencyKey,
            request.phoneNumberId,
          ]) {
            if (given && given.length >= 6) assert.ok(!violation.description.includes(given), `echoes input: ${violation.description}`);
          }
        }
        return;
      }
      assert.deepEqual(expected, new Set(), 'accepted, so the model finds nothing wrong');
      assert.equal(valid.to, request.to);
      assert.deepEqual(valid.content, request.content);
      assert.equal(valid.idempotencyKey, request.idempotencyKey);
      assert.equal(valid.phoneNumberId, request.phoneNumberId || '200');
      const expectedSeconds = request.validity ? request.validity.seconds + request.validity.nanos / 1e9 : 30 * 86_400;
      assert.equal(valid.validitySeconds, expectedSeconds);
      assert.ok(valid.validitySeconds >= 30 && valid.validitySeconds <= 30 * 86_400);
      assert.match(valid.requestHash, /^[0-9a-f]{64}$/);
      assert.equal(validateSendRequest(request, tenant).requestHash, valid.requestHash, 'the hash is a function of the request');
    }),
    parameters,
  );
});
