// Preloaded into every test file by tools/ci/run-node-tests.ts: gives each test (`test`/`it`) a default timeout, so a
// test that hangs fails by itself with "test timed out after N ms" while the rest of its file still runs. Node 20's
// own --test-timeout applies to a whole file only (per test since Node 22). A test that sets `timeout` keeps it.
// Plain CommonJS so it loads before tsx; it patches the exports object that test files compiled to CJS read lazily.
// Node 20 reports a failed test's location ("test at …" in the summary) as this file's; its name and file are in the
// report above it.
'use strict';
const nodeTest = require('node:test');

const timeoutMs = Number(process.env.WAYGATE_TEST_TIMEOUT_MS);
if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
  const withDefaultTimeout = (original) => {
    const wrapped = function (...args) {
      const optionsAt = args.findIndex((arg) => typeof arg === 'object' && arg !== null);
      if (optionsAt === -1) {
        const fnAt = args.findIndex((arg) => typeof arg === 'function');
        args.splice(fnAt === -1 ? args.length : fnAt, 0, { timeout: timeoutMs });
      } else if (args[optionsAt].timeout === undefined) {
        args[optionsAt] = { ...args[optionsAt], timeout: timeoutMs };
      }
      return original.apply(this, args);
    };
    // test.skip, test.only, test.todo, test.mock stay reachable.
    return Object.assign(wrapped, original);
  };
  nodeTest.test = withDefaultTimeout(nodeTest.test);
  nodeTest.it = withDefaultTimeout(nodeTest.it);
}
