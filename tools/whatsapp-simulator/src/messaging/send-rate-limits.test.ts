import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SendRateLimits } from './send-rate-limits';

describe('SendRateLimits', () => {
  it('allows a number its messages per second, then answers 130429 until the second has passed', () => {
    const limits = new SendRateLimits(false);
    for (let i = 0; i < 5; i += 1) assert.equal(limits.admit('phone', 5, `4917000000${i}`, 1_000), undefined);
    const error = limits.admit('phone', 5, '49170000009', 1_500);
    assert.equal(error?.code, 130429);
    assert.equal(error?.httpStatus, 429);
    assert.equal(limits.admit('other-phone', 5, '49170000009', 1_500), undefined, 'limits are per number');
    assert.equal(limits.admit('phone', 5, '49170000009', 2_000), undefined, 'a second later there is room again');
  });

  it('lets a burst through to one recipient, then one message per interval (131056)', () => {
    const limits = new SendRateLimits({ burst: 3, intervalMs: 6_000 });
    for (let i = 0; i < 3; i += 1) assert.equal(limits.admit('phone', 80, '4917000001', i), undefined);
    const error = limits.admit('phone', 80, '4917000001', 10);
    assert.equal(error?.code, 131056);
    assert.equal(error?.httpStatus, 400);
    assert.equal(limits.admit('phone', 80, '4917000002', 10), undefined, 'other recipients are not affected');
    assert.equal(limits.admit('phone', 80, '4917000001', 5_999)?.code, 131056);
    assert.equal(limits.admit('phone', 80, '4917000001', 6_010), undefined, 'one more after an interval');
    assert.equal(limits.admit('phone', 80, '4917000001', 6_020)?.code, 131056);
  });

  it('does not count rejected sends', () => {
    const limits = new SendRateLimits({ burst: 1, intervalMs: 1_000 });
    assert.equal(limits.admit('phone', 80, '4917000001', 0), undefined);
    for (let i = 0; i < 10; i += 1) assert.equal(limits.admit('phone', 80, '4917000001', 100)?.code, 131056);
    assert.equal(limits.admit('phone', 80, '4917000001', 1_000), undefined);
  });
});
