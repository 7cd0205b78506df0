import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waIdCandidates } from './wa-id';

test('waIdCandidates: the digits first, then the Brazilian ninth-digit and Mexican 1 variants', () => {
  const cases: [string, string[]][] = [
    ['+4915112345678', ['4915112345678']],
    ['+5511987654321', ['5511987654321', '551187654321']],
    ['+551187654321', ['551187654321', '5511987654321']],
    // A Brazilian landline (starts 2-5) never gained a ninth digit.
    ['+551133334444', ['551133334444']],
    ['+5215512345678', ['5215512345678', '525512345678']],
    ['+525512345678', ['525512345678', '5215512345678']],
  ];
  for (const [to, expected] of cases) assert.deepEqual(waIdCandidates(to), expected, to);
});
