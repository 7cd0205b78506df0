import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InboundMessageReceived } from '@waygate/proto';
import { inboundMessageFields } from './inbound-message-fields';

test('only the fields that are set are kept: proto3 empty strings stay absent', () => {
  const decoded = InboundMessageReceived.decode(
    InboundMessageReceived.encode(InboundMessageReceived.fromPartial({ waMessageId: 'wamid.1', text: 'hi', mediaId: '' })).finish(),
  );
  assert.deepEqual(inboundMessageFields(decoded), { text: 'hi' });
  assert.deepEqual(
    inboundMessageFields(
      InboundMessageReceived.fromPartial({
        replyId: 'r',
        mediaId: 'med_1',
        mimeType: 'image/jpeg',
        contextWaMessageId: 'wamid.0',
        contentJson: '{}',
      }),
    ),
    { replyId: 'r', mediaId: 'med_1', mimeType: 'image/jpeg', contextWaMessageId: 'wamid.0', contentJson: '{}' },
  );
});
