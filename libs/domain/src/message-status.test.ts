import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextStatus } from './message-status';

test('statuses only move forward', () => {
  assert.equal(nextStatus('ACCEPTED', 'SENT'), 'SENT');
  assert.equal(nextStatus('SENT', 'READ'), 'READ', 'read without delivered implies delivered and beyond');
  assert.equal(nextStatus('READ', 'DELIVERED'), 'READ', 'a late delivered does not move a read message back');
  assert.equal(nextStatus('DELIVERED', 'SENT'), 'DELIVERED');
});

test('terminal statuses are final', () => {
  assert.equal(nextStatus('FAILED', 'DELIVERED'), 'FAILED');
  assert.equal(nextStatus('EXPIRED', 'READ'), 'EXPIRED');
  assert.equal(nextStatus('SENT', 'FAILED'), 'FAILED');
  assert.equal(nextStatus('ACCEPTED', 'EXPIRED'), 'EXPIRED');
});

test('a failure after delivery keeps the delivered status (multi-device rule)', () => {
  assert.equal(nextStatus('DELIVERED', 'FAILED'), 'DELIVERED');
  assert.equal(nextStatus('READ', 'FAILED'), 'READ');
});
