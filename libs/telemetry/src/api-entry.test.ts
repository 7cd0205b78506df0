import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** The npm packages a fresh Node process has loaded after requiring `file` (tsx itself aside). */
function packagesLoadedBy(file: string): string[] {
  const script = `
    require(${JSON.stringify(file)});
    const names = Object.keys(require.cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f)?.[1]);
    process.stdout.write(JSON.stringify([...new Set(names.filter(Boolean))]));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  return (JSON.parse(output) as string[]).filter((name) => name !== 'tsx' && name !== 'esbuild').sort();
}

// Domain code imports this entry; loading it must not start, or even load, the SDK, its instrumentations or pino.
test('the API entry loads @opentelemetry/api and nothing else; the SDK entry is where the SDK comes in', () => {
  assert.deepEqual(packagesLoadedBy(path.join(REPO_ROOT, 'libs/telemetry/src/index.ts')), ['@opentelemetry/api']);
  const sdk = packagesLoadedBy(path.join(REPO_ROOT, 'libs/telemetry-sdk/src/index.ts'));
  for (const name of ['@opentelemetry/sdk-node', '@opentelemetry/instrumentation-grpc', 'pino']) assert.ok(sdk.includes(name), name);
});
