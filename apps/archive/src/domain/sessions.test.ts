import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CUSTOMER_SERVICE_WINDOW_MS, splitSessions, startsSession, withSessionIndex, type SessionMessage } from './sessions';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

function message(direction: 'inbound' | 'outbound', hours: number, type = 'text'): SessionMessage & { name: string } {
  return { direction, type, occurredAt: new Date(T0 + hours * HOUR), name: `${direction[0]}${hours}${type === 'template' ? 't' : ''}` };
}

test('the session rule, case by case', () => {
  const cases: { name: string; lastInboundHoursAgo: number | undefined; first?: true; message: SessionMessage; starts: boolean }[] = [
    { name: 'the first message', lastInboundHoursAgo: undefined, first: true, message: message('outbound', 0), starts: true },
    { name: 'a customer message inside the window', lastInboundHoursAgo: 23, message: message('inbound', 0), starts: false },
    { name: 'a customer message at 24 h', lastInboundHoursAgo: 24, message: message('inbound', 0), starts: true },
    {
      name: 'a customer message after the business alone wrote',
      lastInboundHoursAgo: undefined,
      message: message('inbound', 0),
      starts: true,
    },
    { name: 'a business text with the window closed', lastInboundHoursAgo: 30, message: message('outbound', 0), starts: false },
    {
      name: 'a business template with the window closed',
      lastInboundHoursAgo: 30,
      message: message('outbound', 0, 'template'),
      starts: true,
    },
    { name: 'a business template inside the window', lastInboundHoursAgo: 1, message: message('outbound', 0, 'template'), starts: false },
    { name: "a system notice is not the customer's", lastInboundHoursAgo: 30, message: message('inbound', 0, 'system'), starts: false },
  ];
  for (const { name, lastInboundHoursAgo, first, message: m, starts } of cases) {
    const state = first
      ? undefined
      : {
          sessionIndex: 0,
          ...(lastInboundHoursAgo === undefined ? {} : { lastInboundAt: new Date(m.occurredAt.getTime() - lastInboundHoursAgo * HOUR) }),
        };
    assert.equal(startsSession(state, m), starts, name);
  }
  assert.equal(CUSTOMER_SERVICE_WINDOW_MS, 24 * HOUR);
});

test('a conversation split by the window and by a business-initiated template', () => {
  const conversation = [
    message('inbound', 0),
    message('outbound', 1),
    message('outbound', 30), // window closed, a text: still the first session
    message('outbound', 31, 'template'), // business-initiated
    message('inbound', 32), // the customer answers: the window was closed, so a new session
    message('outbound', 33, 'template'), // window open
    message('inbound', 80),
  ];
  assert.deepEqual(
    splitSessions(conversation).map((session) => session.map((m) => m.name)),
    [['i0', 'o1', 'o30'], ['o31t'], ['i32', 'o33t'], ['i80']],
  );
  assert.deepEqual(
    [...withSessionIndex(conversation)].map(({ sessionIndex, startsSession: starts }) => [sessionIndex, starts]),
    [
      [0, true],
      [0, false],
      [0, false],
      [1, true],
      [2, true],
      [2, false],
      [3, true],
    ],
  );
  assert.deepEqual(splitSessions([]), []);
  assert.deepEqual(
    splitSessions([message('inbound', 0), message('inbound', 30, 'system'), message('outbound', 31, 'template')]).map((session) =>
      session.map((m) => m.name),
    ),
    [['i0', 'i30'], ['o31t']],
    'a system notice opens no window',
  );
});
