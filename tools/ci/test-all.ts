/**
 * `npm test`: everything CI checks, in order, stopping at the first failure:
 * protos (buf lint, regenerate, no diff), types, project graph (apps -> libs only), lint, format, Helm chart, app builds, then every test (unit, contract,
 * integration and end-to-end) in one node:test run so that one summary closes the output.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');
const APPS = ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive'];
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);

interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: string[];
  readonly cwd?: string;
}

const steps: Step[] = [
  { name: 'buf lint', command: bin('buf'), args: ['lint'], cwd: 'proto' },
  { name: 'buf generate', command: bin('buf'), args: ['generate'], cwd: 'proto' },
  { name: 'generated code is up to date', command: 'git', args: ['diff', '--exit-code', '--stat', '--', 'libs/proto/src/generated'] },
  { name: 'typecheck', command: bin('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] },
  { name: 'project graph', command: bin('tsx'), args: ['tools/ci/check-project-graph.ts'] },
  { name: 'lint', command: bin('eslint'), args: ['.'] },
  { name: 'format', command: bin('prettier'), args: ['--check', '--log-level', 'warn', 'apps/**/*.ts', 'libs/**/*.ts', 'tools/**/*.ts'] },
  { name: 'helm chart', command: bin('tsx'), args: ['tools/ci/helm-check.ts'] },
  ...APPS.map((app) => ({ name: `build ${app}`, command: bin('tsx'), args: ['tools/ci/build-app.ts', app] })),
  { name: 'tests', command: bin('tsx'), args: ['tools/ci/run-node-tests.ts', 'libs', 'apps', 'tools'] },
];

for (const step of steps) {
  const started = Date.now();
  console.log(`\n=== ${step.name}`);
  const result = spawnSync(step.command, step.args, { cwd: path.join(REPO_ROOT, step.cwd ?? '.'), stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n=== FAILED: ${step.name} (${seconds} s)${result.error ? `: ${result.error.message}` : ''}`);
    process.exit(result.status ?? 1);
  }
  console.log(`=== ok: ${step.name} (${seconds} s)`);
}
