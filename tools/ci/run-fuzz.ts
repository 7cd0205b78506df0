/**
 * `npm run fuzz`: runs every `*.fuzz.test.ts` (fast-check properties) with many more runs than `npm test` does,
 * then prints runs and time per property and, for a failure, the command that replays its counterexample.
 *
 * Usage: npm run fuzz [-- --runs N] [--seed S --path P] [--name PATTERN] [folder or file ...]
 *   --runs N    runs per property (WAYGATE_FUZZ_RUNS; default 20,000; properties through a server take a share)
 *   --seed S, --path P   replay the failure fast-check reported as `{ seed: S, path: "P" }`
 *   --name PATTERN       only tests whose name matches (node --test-name-pattern); use it with --seed/--path
 * Folders default to libs, apps and tools. See docs/testing.md.
 */
import { spawn } from 'node:child_process';
import { findFilesEndingIn, takeOption } from './cli-files';

const DEFAULT_RUNS = 20_000;
/** A property that takes longer than this is hanging, not fuzzing. */
const TEST_TIMEOUT_MS = 30 * 60_000;

const args = process.argv.slice(2);
const runs = takeOption(args, '--runs') ?? String(DEFAULT_RUNS);
const seed = takeOption(args, '--seed');
const replayPath = takeOption(args, '--path');
const name = takeOption(args, '--name');
if (!/^[1-9]\d*$/.test(runs)) throw new Error(`--runs must be a positive integer, got ${runs}`);
const targets = args.length > 0 ? args : ['libs', 'apps', 'tools'];
const files = targets.flatMap((target) => findFilesEndingIn(target, '.fuzz.test.ts')).sort();
if (files.length === 0) {
  console.error(`no *.fuzz.test.ts files under ${targets.join(', ')}`);
  process.exit(1);
}

const env: NodeJS.ProcessEnv = { ...process.env, WAYGATE_FUZZ_RUNS: runs };
if (seed) env.WAYGATE_FUZZ_SEED = seed;
if (replayPath) env.WAYGATE_FUZZ_PATH = replayPath;
const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${TEST_TIMEOUT_MS}`];
if (name) nodeArgs.push(`--test-name-pattern=${name}`);
console.log(
  `fuzz: ${files.length} files, WAYGATE_FUZZ_RUNS=${runs}${seed ? `, replaying seed ${seed} path ${replayPath ?? '(none)'}` : ''}`,
);

const started = Date.now();
const child = spawn(process.execPath, [...nodeArgs, ...files], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  output += chunk.toString('utf8');
});
child.on('close', (code) => {
  const results: { outcome: string; test: string; ms: number; runs?: string }[] = [];
  const failures: { test: string; seed: string; path: string }[] = [];
  const fileOf = new Map<string, string>();
  let lastFailed = '';
  let testAt = '';
  // The spec reporter prints each test (✔/✖ name (N ms)), then our `t.diagnostic` (ℹ N runs), then any error.
  for (const line of output.split('\n')) {
    const result = /^\s*([✔✖]) (.+) \(([\d.]+)ms\)$/.exec(line);
    // The reporter lists failed tests a second time at the end, each after the file it is in; count each once.
    const location = /^test at (.+?):\d+:\d+$/.exec(line);
    if (location) testAt = location[1];
    if (result) {
      if (testAt) fileOf.set(result[2], testAt);
      testAt = '';
      if (!results.some((r) => r.test === result[2])) results.push({ outcome: result[1], test: result[2], ms: Number(result[3]) });
      if (result[1] === '✖') lastFailed = result[2];
      continue;
    }
    const diagnostic = /^\s*ℹ (\d+) runs$/.exec(line);
    if (diagnostic && results.length > 0 && results[results.length - 1].runs === undefined)
      results[results.length - 1].runs = diagnostic[1];
    const failure = /\{ seed: (-?\d+), path: "([^"]*)"/.exec(line);
    if (failure && !failures.some((f) => f.seed === failure[1] && f.path === failure[2]))
      failures.push({ test: lastFailed, seed: failure[1], path: failure[2] });
  }
  console.log(`\nfuzz summary (WAYGATE_FUZZ_RUNS=${runs}, ${((Date.now() - started) / 1000).toFixed(1)} s in all):`);
  for (const r of results)
    console.log(`  ${r.outcome} ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${(r.runs ?? '?').padStart(7)} runs  ${r.test}`);
  for (const f of failures) {
    const pattern = f.test.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    console.log(
      `\nreplay "${f.test}":\n  npm run fuzz -- --seed ${f.seed} --path "${f.path}" --name '${pattern.replace(/'/g, "'\\''")}' ${fileOf.get(f.test) ?? ''}`,
    );
  }
  process.exit(code ?? 1);
});
