/**
 * Runs per property inside `npm test`: enough to catch a regression, short enough that each `*.fuzz.test.ts` file
 * stays within a few seconds. `npm run fuzz` sets WAYGATE_FUZZ_RUNS much higher (tools/ci/run-fuzz.ts).
 */
export const DEFAULT_FUZZ_RUNS = 300;

/** The fast-check parameters `fuzzParameters` sets; spread them into `fc.assert(property, parameters)`. */
export interface FuzzParameters {
  readonly numRuns: number;
  /** Replays a reported failure together with `path` (WAYGATE_FUZZ_SEED). */
  readonly seed?: number;
  /** The counterexample's path within the run that `seed` started (WAYGATE_FUZZ_PATH). */
  readonly path?: string;
}

function integer(name: string, value: string, min: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) throw new Error(`${name} must be an integer of at least ${min}, got "${value}"`);
  return parsed;
}

/**
 * How many runs a fuzz property makes: WAYGATE_FUZZ_RUNS (default {@link DEFAULT_FUZZ_RUNS}) times `share`, at
 * least 1. A property that goes through a real server takes a share (e.g. 0.1) of what a pure one runs.
 */
export function fuzzRuns(share = 1, env: NodeJS.ProcessEnv = process.env): number {
  const runs = env.WAYGATE_FUZZ_RUNS ? integer('WAYGATE_FUZZ_RUNS', env.WAYGATE_FUZZ_RUNS, 1) : DEFAULT_FUZZ_RUNS;
  return Math.max(1, Math.round(runs * share));
}

/**
 * fast-check parameters for a fuzz property: {@link fuzzRuns} runs and, to replay a failure that `fc.assert`
 * reported (`{ seed: …, path: "…" }`), WAYGATE_FUZZ_SEED and WAYGATE_FUZZ_PATH. Replay one property at a time
 * (`npm run fuzz -- --seed S --path P --name <test name>`): a path only makes sense for the property that printed it.
 */
export function fuzzParameters(share = 1, env: NodeJS.ProcessEnv = process.env): FuzzParameters {
  const seed = env.WAYGATE_FUZZ_SEED;
  const path = env.WAYGATE_FUZZ_PATH;
  return {
    numRuns: fuzzRuns(share, env),
    ...(seed ? { seed: integer('WAYGATE_FUZZ_SEED', seed, -(2 ** 31)) } : {}),
    ...(seed && path ? { path } : {}),
  };
}
