/**
 * Runs node's test runner over every `*.test.ts` below the given folders (Node 20's `--test` does not expand
 * globs). Usage: tsx tools/ci/run-node-tests.ts [--concurrency N] [--timeout MS] <folder or test file>...
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function findTestFiles(folder: string): string[] {
  const stats = statSync(folder, { throwIfNoEntry: false });
  if (stats?.isFile()) return folder.endsWith('.test.ts') ? [folder] : [];
  if (!stats?.isDirectory()) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTestFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/**
 * A hung test fails the run with "test timed out" instead of blocking CI. Node 20's runner applies --test-timeout
 * to each test file as a whole (newer Node versions also to each test), so this must hold the longest file with
 * room: on a loaded 2-core machine delivery-retry's process test took 141 s and the bench smoke test 91 s.
 */
const DEFAULT_TEST_TIMEOUT_MS = 300_000;

const args = process.argv.slice(2);
const concurrencyFlag = args.indexOf('--concurrency');
const concurrency = concurrencyFlag >= 0 ? args.splice(concurrencyFlag, 2)[1] : undefined;
const timeoutFlag = args.indexOf('--timeout');
const timeoutMs = timeoutFlag >= 0 ? args.splice(timeoutFlag, 2)[1] : String(DEFAULT_TEST_TIMEOUT_MS);
const files = args.flatMap(findTestFiles).sort();
if (files.length === 0) {
  console.error(`no test files found under ${args.join(', ')}`);
  process.exit(1);
}
const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${timeoutMs}`];
if (concurrency) nodeArgs.push(`--test-concurrency=${concurrency}`);
const result = spawnSync(process.execPath, [...nodeArgs, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
