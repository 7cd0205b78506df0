import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatorInputError } from '../simulator-input-error';
import { createIdSource } from '../ids';
import { parseWebhookFaultRule, WebhookFaultInjector } from './webhook-faults';

describe('WebhookFaultInjector', () => {
  it('applies a counted rule that many times, only to its fault and recipient', () => {
    const faults = new WebhookFaultInjector(() => 0);
    faults.add({ fault: 'duplicate', count: 2, recipient: '4917000001' });
    assert.equal(faults.take('skip_delivered', '4917000001'), undefined);
    assert.equal(faults.take('duplicate', '4917000002'), undefined);
    assert.ok(faults.take('duplicate', '4917000001'));
    assert.ok(faults.take('duplicate', '4917000001'));
    assert.equal(faults.take('duplicate', '4917000001'), undefined);
  });

  it('applies a rule without count until cleared', () => {
    const faults = new WebhookFaultInjector(() => 0);
    faults.add({ fault: 'skip_delivered' });
    for (let i = 0; i < 100; i += 1) assert.ok(faults.take('skip_delivered', '4917000001'));
    faults.clear();
    assert.equal(faults.take('skip_delivered', '4917000001'), undefined);
  });

  it('hits about `probability` of the time, the same way for the same seed', () => {
    const run = (): boolean[] => {
      const ids = createIdSource(7);
      const faults = new WebhookFaultInjector(() => ids.random());
      faults.add({ fault: 'duplicate', probability: 0.25 });
      return Array.from({ length: 2_000 }, () => faults.take('duplicate', '4917000001') !== undefined);
    };
    const hits = run();
    const share = hits.filter(Boolean).length / hits.length;
    assert.ok(share > 0.2 && share < 0.3, `share ${share}`);
    assert.deepEqual(run(), hits);
  });

  it('rejects invalid rules, naming the field', () => {
    assert.throws(() => parseWebhookFaultRule({ fault: 'explode' }), /fault must be one of/);
    assert.throws(() => parseWebhookFaultRule({ fault: 'delay' }), /delayMs/);
    assert.throws(() => parseWebhookFaultRule({ fault: 'duplicate', count: 0 }), /count/);
    assert.throws(() => parseWebhookFaultRule({ fault: 'duplicate', probability: 2 }), /probability/);
    assert.throws(() => parseWebhookFaultRule({ fault: 'duplicate', recipient: '+49 170' }), SimulatorInputError);
    assert.deepEqual(parseWebhookFaultRule({ fault: 'delay', delayMs: 5_000, count: 1 }), { fault: 'delay', delayMs: 5_000, count: 1 });
  });
});
