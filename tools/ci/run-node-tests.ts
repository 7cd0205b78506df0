/**
 * Runs node's test runner over every `*.test.ts` below the given folders (Node 20's `--test` does not expand
 * globs). Usage: tsx tools/ci/run-node-tests.ts [--concurrency N] [--test-timeout MS] [--file-timeout MS] <folder or test file>...
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { findFilesEndingIn, takeOption } from './cli-files';

/**
 * A hung test fails the run with "test timed out" instead of blocking CI. Each test gets a default timeout (the
 * preload `per-test-timeout.cjs`; a test may set its own `timeout`), so the test that hung is the one reported and
 * the rest of its file still runs. Node 20's --test-timeout bounds each file as a whole, as a backstop. On a loaded
 * 2-core machine the longest test (delivery-retry's crash test) took about 100 s, its file 141 s.
 */
const DEFAULT_TEST_TIMEOUT_MS = 180_000;
const DEFAULT_FILE_TIMEOUT_MS = 600_000;

const args = process.argv.slice(2);
const concurrency = takeOption(args, '--concurrency');
const testTimeoutMs = takeOption(args, '--test-timeout') ?? String(DEFAULT_TEST_TIMEOUT_MS);
const fileTimeoutMs = takeOption(args, '--file-timeout') ?? String(DEFAULT_FILE_TIMEOUT_MS);
const files = args.flatMap((target) => findFilesEndingIn(target, '.test.ts')).sort();
if (files.length === 0) {
  console.error(`no test files found under ${args.join(', ')}`);
  process.exit(1);
}
// Node 20 bounds only whole files with --test-timeout, so the preload gives each test its timeout; from Node 22 on,
// --test-timeout applies to each test too, so it carries the per-test value itself.
const perTestNative = Number(process.versions.node.split('.')[0]) >= 22;
const nodeArgs = [
  ...(perTestNative ? [] : ['--require', path.join(__dirname, 'per-test-timeout.cjs')]),
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-timeout=${perTestNative ? testTimeoutMs : fileTimeoutMs}`,
];
if (concurrency) nodeArgs.push(`--test-concurrency=${concurrency}`);
const result = spawnSync(process.execPath, [...nodeArgs, ...files], {
  stdio: 'inherit',
  env: { ...process.env, WAYGATE_TEST_TIMEOUT_MS: testTimeoutMs },
});
process.exit(result.status ?? 1);
