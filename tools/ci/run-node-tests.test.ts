import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';

const RUNNER = path.join(__dirname, 'run-node-tests.ts');

test('a test that hangs fails by itself with a timeout; the rest of its file still runs', { timeout: 60_000 }, () => {
  const dir = createTempDir('waygate-timeout-');
  try {
    const file = path.join(dir.path, 'hangs.test.ts');
    writeFileSync(
      file,
      [
        "import { describe, test } from 'node:test';",
        "test('before', () => {});",
        // Still waiting long after its timeout; the timer ends by itself so the file can finish.
        "test('hangs', () => new Promise((resolve) => setTimeout(resolve, 4_000)));",
        "test('keeps its own timeout', { timeout: 30_000 }, () => new Promise((resolve) => setTimeout(resolve, 700)));",
        "describe('a suite', () => { test('hangs inside', () => new Promise((resolve) => setTimeout(resolve, 4_000))); });",
        "test('after', () => {});",
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', RUNNER, '--test-timeout', '500', '--file-timeout', '20000', file], {
      encoding: 'utf8',
      timeout: 50_000,
      // Without this the child runner sees it runs inside a test file and skips its files.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined },
    });
    const output = `${run.stdout}${run.stderr}`;
    assert.equal(run.status, 1, output);
    assert.match(output, /✖ hangs .*\n\s+'test timed out after 500ms'/, output);
    assert.match(output, /✖ hangs inside .*\n\s+'test timed out after 500ms'/, 'tests inside a suite too');
    assert.match(output, /test at \S*hangs\.test\.ts:\d+:\d+\n✖ hangs /, 'the failure points at the test itself');
    assert.doesNotMatch(output, /per-test-timeout/);
    assert.match(output, /✔ before/);
    assert.match(output, /✔ keeps its own timeout/, 'a test that sets its own timeout keeps it');
    assert.match(output, /✔ after/, 'the tests after the hung one still ran');
    // node:test counts a timed-out test as cancelled; the file itself finished well within its own bound.
    assert.match(output, /ℹ cancelled 2\n/);
    assert.doesNotMatch(output, /timed out after 20000ms/);
  } finally {
    dir.remove();
  }
});
