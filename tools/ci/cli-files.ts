/** What the test runners (run-node-tests.ts, run-fuzz.ts) share: finding test files and reading their options. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Folders never searched for tests. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.data']);

/** Every file ending in `suffix` below `target` (or `target` itself if it is such a file), unsorted. */
export function findFilesEndingIn(target: string, suffix: string): string[] {
  const stats = statSync(target, { throwIfNoEntry: false });
  if (stats?.isFile()) return target.endsWith(suffix) ? [target] : [];
  if (!stats?.isDirectory()) return [];
  return readdirSync(target, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) return SKIPPED_FOLDERS.has(entry.name) ? [] : findFilesEndingIn(full, suffix);
    return entry.name.endsWith(suffix) ? [full] : [];
  });
}

/** Removes `--name value` from `args` and returns the value (undefined when absent; an error when it has no value). */
export function takeOption(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  if (value === undefined) throw new Error(`${name} needs a value`);
  return value;
}
