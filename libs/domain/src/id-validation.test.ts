import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from './errors';
import { MAX_ID_LENGTH, MAX_WHATSAPP_ID_LENGTH, idViolations, validateId, validateMessageId } from './id-validation';
import { newId } from './ids';

test("accepts Waygate's ids, wamids, event ids and tenants-file ids", () => {
  for (const id of [
    newId('msg'),
    newId('med'),
    'wamid.HBgLMTU1NTAwMDExMTEVAgASGCA0QjQ3RjYxQTY5MzQzQjc0QTIxNkMyQ0I0N0I2QTNBMAA=',
    'wa:in:wamid.HBgL+/x=',
    'msg_1:delivery:canceled',
    'main-endpoint',
    'x'.repeat(MAX_ID_LENGTH),
  ]) {
    assert.deepEqual(idViolations('message_id', id), [], id);
  }
  assert.deepEqual(idViolations('wa_message_id', 'w'.repeat(MAX_WHATSAPP_ID_LENGTH), MAX_WHATSAPP_ID_LENGTH), []);
});

test('empty is REQUIRED "must be set"; too long and other characters are refused without quoting the value', () => {
  assert.deepEqual(idViolations('message_id', ''), [{ field: 'message_id', reason: 'REQUIRED', description: 'must be set' }]);
  const long = 'A'.repeat(10_000);
  const [tooLong] = idViolations('message_id', long);
  assert.equal(tooLong?.reason, 'TOO_LONG');
  assert.match(tooLong?.description ?? '', /at most 128 characters/);
  for (const bad of ['msg 1', 'msg\u0000', 'msg_ü', '+49 151 1234', '"msg"', 'msg\n1']) {
    const [violation] = idViolations('message_id', bad);
    assert.equal(violation?.reason, 'INVALID_FORMAT', JSON.stringify(bad));
    assert.ok(!violation?.description.includes(bad), 'the value is not quoted');
  }
  assert.equal(idViolations('media_id', 'x'.repeat(MAX_ID_LENGTH + 1))[0]?.reason, 'TOO_LONG');
});

test('validateId and validateMessageId throw InvalidArgumentError naming the field, never the value', () => {
  const long = `msg_${'7'.repeat(10_000)}`;
  assert.throws(
    () => validateMessageId('message_id', long),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(
        error.violations.map((v) => [v.field, v.reason]),
        [['message_id', 'TOO_LONG']],
      );
      assert.ok(error.message.length < 200 && !error.message.includes('7777'), 'the message does not echo the id');
      return true;
    },
  );
  assert.throws(() => validateId('wa_message_id', 'w'.repeat(MAX_WHATSAPP_ID_LENGTH + 1), MAX_WHATSAPP_ID_LENGTH), InvalidArgumentError);
  assert.doesNotThrow(() => validateMessageId('message_id', newId('msg')));
});
