import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callbackDataFor, messageIdFromCallbackData } from './callback-data';

test('the message id round-trips through the callback data; other data is not ours', () => {
  const messageId = 'msg_01a24469402fdb4bfab796a043752692';
  assert.equal(callbackDataFor(messageId), `waygate:${messageId}`);
  assert.equal(messageIdFromCallbackData(callbackDataFor(messageId)), messageId);
  for (const other of [undefined, '', 'order-42', 'waygate:', 'waygate:a b', `waygate:${'x'.repeat(129)}`, 'xwaygate:m1']) {
    assert.equal(messageIdFromCallbackData(other), undefined, String(other));
  }
});
