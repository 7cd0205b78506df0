import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCHMARK_NAMES, FULL_PROFILE, isBenchmarkName, QUICK_PROFILE, type BenchmarkName, type BenchOptions } from './bench-options';

export const USAGE = `usage: npm run bench -- [--quick] [--only <name>[,<name>...]] [--out <file.json>] [--service-env KEY=VALUE ...] [--archive-messages <n>] [--full-loop-phase <duration>] [--soak <duration> [--soak-rate <n>]] [--cpu-prof <dir>] [--runs <n>]
  --quick           short phases (a smoke run, well under a minute) instead of the full run (about four minutes)
  --only <names>    run only these benchmarks: ${BENCHMARK_NAMES.join(', ')} (repeatable or comma-separated)
  --runs <n>        run every selected benchmark n times (default 1; the issue's figures: 3) and report per phase the
                    median run by throughput, with the spread (min-max throughput and p99) and each run's load average
  --out <file>      where to write the JSON report (default .data/bench/<timestamp>.json; the Markdown summary next to it, .md)
  --service-env     extra environment for the services, e.g. WAYGATE_DELIVERY_CONCURRENCY=64 (repeatable)
  --full-loop-phase <duration>  length of each full-loop phase, e.g. 60s (default 15s; 1.5s with --quick)
  --soak <duration>  run only the soak: 300 msg/s through the full loop for e.g. 10m (RSS and event-loop lag of every service)
  --soak-rate <n>   the soak's rate in msg/s (default 300), e.g. the full loop's sustainable rate on a small machine
  --cpu-prof <dir>  run every service with node's --cpu-prof, writing <dir>/<service>/*.cpuprofile on its exit
                    (summarise with: npx tsx tools/bench/src/cpu-profile-summary.ts <dir>)
  --archive-messages <n>  messages archived before the archive benchmark measures search (default 100000 full, 5000 quick;
                    1000000 for the issue's figure, about 25 minutes on 2 cores)`;

/** `90s`, `10m`, `1.5s`, `500ms` or `1h` as milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/** A command line `npm run bench` cannot run; the message says why. */
export class UsageError extends Error {}

export type ParsedArgs = { readonly help: true } | (BenchOptions & { readonly help: false; readonly out: string });

/** Reads `npm run bench` arguments; relative paths resolve against `cwd`, the default report is timestamped `now`. */
export function parseBenchArgs(args: readonly string[], now = new Date(), cwd = process.cwd()): ParsedArgs {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        out: { type: 'string' },
        'service-env': { type: 'string', multiple: true },
        'archive-messages': { type: 'string' },
        'full-loop-phase': { type: 'string' },
        soak: { type: 'string' },
        'cpu-prof': { type: 'string' },
        'soak-rate': { type: 'string' },
        runs: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true };
  const only = (values.only ?? []).flatMap((value) => value.split(',')).filter((value) => value !== '');
  const unknown = only.filter((name) => !isBenchmarkName(name));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARK_NAMES.join(', ')}`);
  const serviceEnv: Record<string, string> = {};
  for (const assignment of values['service-env'] ?? []) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(assignment);
    if (!match) throw new UsageError(`--service-env needs KEY=VALUE, got "${assignment}"`);
    serviceEnv[match[1]] = match[2];
  }
  let archiveMessages: number | undefined;
  if (values['archive-messages'] !== undefined) {
    archiveMessages = Number(values['archive-messages']);
    if (!Number.isInteger(archiveMessages) || archiveMessages < 100 || archiveMessages > 10_000_000) {
      throw new UsageError(`--archive-messages needs a whole number from 100 to 10000000, got "${values['archive-messages']}"`);
    }
  }
  const durationOf = (flag: string, text: string | undefined, min: number, max: number): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined || ms < min || ms > max)
      throw new UsageError(`${flag} needs a duration from ${min / 1000}s to ${max / 3_600_000}h such as 90s or 10m, got "${text}"`);
    return ms;
  };
  const fullLoopPhaseMs = durationOf('--full-loop-phase', values['full-loop-phase'], 500, 3_600_000);
  const soakMs = durationOf('--soak', values.soak, 10_000, 24 * 3_600_000);
  if (soakMs !== undefined && only.length > 0) throw new UsageError('--soak runs alone; leave out --only');
  let soakRatePerSec: number | undefined;
  if (values['soak-rate'] !== undefined) {
    soakRatePerSec = Number(values['soak-rate']);
    if (soakMs === undefined) throw new UsageError('--soak-rate needs --soak');
    if (!Number.isInteger(soakRatePerSec) || soakRatePerSec < 1 || soakRatePerSec > 10_000)
      throw new UsageError(`--soak-rate needs a whole number of msg/s from 1 to 10000, got "${values['soak-rate']}"`);
  }
  let runs = 1;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > 20)
      throw new UsageError(`--runs needs a whole number from 1 to 20, got "${values.runs}"`);
    // A soak is one long run whose RSS growth is the figure; a median of soaks would hide the worst one.
    if (runs > 1 && soakMs !== undefined) throw new UsageError('--runs does not apply to --soak: run the soak again for another sample');
  }
  const base = values.quick ? QUICK_PROFILE : FULL_PROFILE;
  const profile = fullLoopPhaseMs === undefined ? base : { ...base, fullLoopPhaseMs };
  const timestamp = now
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  return {
    help: false,
    profile: archiveMessages === undefined ? profile : { ...profile, archiveMessages },
    only: only as BenchmarkName[],
    serviceEnv,
    runs,
    ...(soakMs !== undefined ? { soakMs } : {}),
    ...(soakRatePerSec !== undefined ? { soakRatePerSec } : {}),
    ...(values['cpu-prof'] !== undefined ? { cpuProfDir: path.resolve(cwd, values['cpu-prof']) } : {}),
    out: path.resolve(cwd, values.out ?? path.join('.data', 'bench', `${timestamp}.json`)),
  };
}
