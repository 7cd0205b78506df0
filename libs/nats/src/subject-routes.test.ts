import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryInfo } from './jetstream';
import { routeBySubject } from './subject-routes';

const info = (subject: string) => ({ subject }) as DeliveryInfo;

test('routes by exact subject and acknowledges unrouted subjects untouched', async () => {
  const seen: string[] = [];
  const unrouted: string[] = [];
  const handle = routeBySubject(
    {
      'waygate.eu.events.delivery': async (data) => (seen.push(`delivery:${data.length}`), { kind: 'ack' }),
      'waygate.eu.events.templates': async () => ({ kind: 'reject', reason: 'bad' }),
    },
    (i) => unrouted.push(i.subject),
  );
  assert.deepEqual(await handle(new Uint8Array(3), info('waygate.eu.events.delivery')), { kind: 'ack' });
  assert.deepEqual(await handle(new Uint8Array(0), info('waygate.eu.events.templates')), { kind: 'reject', reason: 'bad' });
  assert.deepEqual(await handle(new Uint8Array(0), info('waygate.eu.events.something-new')), { kind: 'ack' });
  assert.deepEqual(seen, ['delivery:3']);
  assert.deepEqual(unrouted, ['waygate.eu.events.something-new']);
});
