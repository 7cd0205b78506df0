import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from './temp-dir';

test('a backend that cannot run here lists its contract tests as skipped, with the reason, and runs none of them', (t) => {
  const dir = createTempDir();
  t.after(() => dir.remove());
  const fixture = path.join(dir.path, 'contract.fixture.ts');
  writeFileSync(
    fixture,
    [
      `import { describeContract } from ${JSON.stringify(path.join(__dirname, 'contract-suite.ts'))};`,
      `for (const backend of [{ name: 'sqlite' }, { name: 'mongodb', skip: 'MONGODB_URI not set' }]) {`,
      `  describeContract(backend, 'ThingStore contract', (test) => {`,
      `    test('stores a thing', () => { if (backend.skip) throw new Error('a skipped test ran'); });`,
      `    test('reads it back', async () => { if (backend.skip) throw new Error('a skipped test ran'); });`,
      `  });`,
      `}`,
    ].join('\n'),
  );
  // Without NODE_TEST_CONTEXT, which this runner sets: the fixture's run reports on its own, in TAP.
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', fixture], { encoding: 'utf8', env });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /# Subtest: ThingStore contract \(sqlite\)/);
  assert.match(run.stdout, /# Subtest: ThingStore contract \(mongodb\)/);
  assert.equal(run.stdout.match(/^ *ok \d+ - (stores a thing|reads it back) # SKIP MONGODB_URI not set$/gm)?.length, 2, run.stdout);
  assert.match(run.stdout, /^# pass 2$/m);
  assert.match(run.stdout, /^# skipped 2$/m, 'the summary counts the skipped tests');
});
