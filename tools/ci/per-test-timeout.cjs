// Preloaded into every test file by tools/ci/run-node-tests.ts: gives each test a default timeout, so a test that
// hangs fails by itself ("test timed out after N ms", counted as cancelled, which fails the run) while the rest of
// its file still runs. A test that sets its own `timeout` keeps it.
//
// Why a preload: Node 20's --test-timeout bounds whole files only (it applies to each test from Node 22 on, where
// run-node-tests.ts relies on it instead). node:test has no public default, so this sets the timeout of every test
// that has none just before it runs, through the Test class a root `before` hook reaches (Test.prototype.run and its
// `timeout` field are node:test internals, checked below: if they ever differ, it warns and changes nothing).
// Patching at run time, rather than wrapping test(), keeps each failure's reported location the test's own.
'use strict';

const timeoutMs = Number(process.env.WAYGATE_TEST_TIMEOUT_MS);
// Only inside the runner's child processes (one per test file), never in the runner itself.
if (process.env.NODE_TEST_CONTEXT && Number.isFinite(timeoutMs) && timeoutMs > 0) {
  const { before } = require('node:test');
  const { executionAsyncResource } = require('node:async_hooks');
  before(() => {
    const hook = executionAsyncResource();
    const Test = hook && Object.getPrototypeOf(hook.constructor);
    if (typeof Test !== 'function' || Test.name !== 'Test' || typeof Test.prototype.run !== 'function' || !('timeout' in hook)) {
      process.emitWarning('per-test-timeout: node:test internals differ from Node 20; tests keep only the file timeout');
      return;
    }
    if (Test.prototype.run.waygateDefaultTimeout) return;
    const run = Test.prototype.run;
    const withDefaultTimeout = function (...args) {
      // Tests only: not the file's root (no parent), not suites or hooks (subclasses with their own rules).
      if ((this.timeout === null || this.timeout === Infinity) && this.parent !== null && this.constructor === Test) {
        this.timeout = timeoutMs;
      }
      return run.apply(this, args);
    };
    withDefaultTimeout.waygateDefaultTimeout = true;
    Test.prototype.run = withDefaultTimeout;
  });
}
