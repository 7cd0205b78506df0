import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headers } from 'nats';
import { ORDER_KEY_HEADER } from '@waygate/nats';
import { traceOrderKey } from './trace-order-key';

const subject = 'waygate.eu.events.receipt';

test("an event's order key is its trace id, whatever order key its publisher set; else that key; else none (one lane)", () => {
  const traced = headers();
  traced.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  traced.set(ORDER_KEY_HEADER, 'number:pn-1:ref');
  assert.equal(traceOrderKey({ subject, headers: traced }), 'trace:4bf92f3577b34da6a3ce929d0e0e4736');
  const keyed = headers();
  keyed.set(ORDER_KEY_HEADER, 'msg_1');
  assert.equal(traceOrderKey({ subject, headers: keyed }), 'msg_1');
  const invalid = headers();
  invalid.set('traceparent', '00-00000000000000000000000000000000-00f067aa0ba902b7-01');
  assert.equal(traceOrderKey({ subject, headers: invalid }), undefined, 'an all-zero trace id is no trace');
  assert.equal(traceOrderKey({ subject }), undefined);
});
