import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUSTOMER_SERVICE_WINDOW_MS, CustomerServiceWindows } from './customer-service-windows';

describe('CustomerServiceWindows', () => {
  it('is open for 24 hours after the customer last wrote to that number', () => {
    const windows = new CustomerServiceWindows();
    assert.equal(windows.isOpen('phone', '4917000001', 0), false, 'closed until the customer writes');
    windows.open('phone', '4917000001', 1_000);
    assert.equal(windows.isOpen('phone', '4917000001', 1_000 + CUSTOMER_SERVICE_WINDOW_MS - 1), true);
    assert.equal(windows.isOpen('phone', '4917000001', 1_000 + CUSTOMER_SERVICE_WINDOW_MS), false);
    assert.equal(windows.isOpen('other-phone', '4917000001', 2_000), false, 'per business number');
  });

  it('a later message extends the window; an older one does not shorten it', () => {
    const windows = new CustomerServiceWindows();
    windows.open('phone', '4917000001', 10_000);
    windows.open('phone', '4917000001', 5_000);
    assert.equal(windows.isOpen('phone', '4917000001', 10_000 + CUSTOMER_SERVICE_WINDOW_MS - 1), true);
  });
});
