/**
 * Runs node's test runner over every `*.test.ts` below the given folders (Node 20's `--test` does not expand
 * globs). Usage: tsx tools/ci/run-node-tests.ts [--concurrency N] <folder or test file>...
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

const args = process.argv.slice(2);
const concurrencyFlag = args.indexOf('--concurrency');
const concurrency = concurrencyFlag >= 0 ? args.splice(concurrencyFlag, 2)[1] : undefined;
const files = args.flatMap(findTestFiles).sort();
if (files.length === 0) {
  console.error(`no test files found under ${args.join(', ')}`);
  process.exit(1);
}
const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec'];
if (concurrency) nodeArgs.push(`--test-concurrency=${concurrency}`);
const result = spawnSync(process.execPath, [...nodeArgs, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
