import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGE_STATUSES } from '@waygate/domain';
import { MessageStatus, MessageStatusChanged } from '@waygate/proto';
import { decodeEvent } from './decode-event';
import { fromProtoStatus, toProtoStatus } from './status-mapping';

test('every domain status round-trips through the wire enum', () => {
  for (const status of MESSAGE_STATUSES) assert.equal(fromProtoStatus(toProtoStatus(status)), status);
  assert.equal(fromProtoStatus(MessageStatus.MESSAGE_STATUS_UNSPECIFIED), undefined);
});

test('undecodable bytes are reported, not thrown', () => {
  assert.equal(decodeEvent(MessageStatusChanged, new Uint8Array([0xff, 0xff, 0xff])), undefined);
  const bytes = MessageStatusChanged.encode(MessageStatusChanged.fromPartial({ eventId: 'e1' })).finish();
  assert.equal(decodeEvent(MessageStatusChanged, bytes)?.eventId, 'e1');
});
