import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCHMARK_NAMES, FULL_PROFILE, isBenchmarkName, QUICK_PROFILE, type BenchmarkName, type BenchOptions } from './bench-options';

export const USAGE = `usage: npm run bench -- [--quick] [--only <name>[,<name>...]] [--out <file.json>] [--service-env KEY=VALUE ...] [--archive-messages <n>]
  --quick           short phases (a smoke run, well under a minute) instead of the full run (about four minutes)
  --only <names>    run only these benchmarks: ${BENCHMARK_NAMES.join(', ')} (repeatable or comma-separated)
  --out <file>      where to write the JSON report (default .data/bench/<timestamp>.json)
  --service-env     extra environment for the services, e.g. WAYGATE_DELIVERY_CONCURRENCY=64 (repeatable)
  --archive-messages <n>  messages archived before the archive benchmark measures search (default 100000 full, 5000 quick;
                    1000000 for the issue's figure, about 25 minutes on 2 cores)`;

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
  const profile = values.quick ? QUICK_PROFILE : FULL_PROFILE;
  const timestamp = now
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  return {
    help: false,
    profile: archiveMessages === undefined ? profile : { ...profile, archiveMessages },
    only: only as BenchmarkName[],
    serviceEnv,
    out: path.resolve(cwd, values.out ?? path.join('.data', 'bench', `${timestamp}.json`)),
  };
}
