import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
}

/**
 * Copies into `<targetDir>/node_modules` exactly the packages `npm ci --omit=dev` would install: every package of
 * package-lock.json not marked `dev` or `devOptional`, taken from the repository's installed node_modules (so no
 * network, and native modules such as better-sqlite3 come already built). Nested node_modules are copied entry by
 * entry, so a dev-only package nested under a production one stays out. Optional packages for other platforms (not
 * installed) are skipped; a missing required one is an error. Returns the number of packages copied.
 */
export function copyProductionDependencies(repoRoot: string, targetDir: string): number {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    lockfileVersion: number;
    packages: Record<string, LockPackage>;
  };
  if (lock.lockfileVersion < 2) throw new Error(`package-lock.json v${lock.lockfileVersion}: v2 or later needed (dev flags per package)`);
  let copied = 0;
  for (const [location, entry] of Object.entries(lock.packages)) {
    if (location === '' || entry.dev || entry.devOptional) continue;
    if (entry.link) throw new Error(`${location} is a link (workspace); copying links is not supported`);
    const source = path.join(repoRoot, location);
    if (!existsSync(source)) {
      if (entry.optional) continue;
      throw new Error(`${location} is a production dependency but is not installed (run npm ci)`);
    }
    cpSync(source, path.join(targetDir, location), {
      recursive: true,
      // Its own nested node_modules are lock entries of their own (copied, or left out when dev-only).
      filter: (file) => path.relative(source, file).split(path.sep)[0] !== 'node_modules',
    });
    copied++;
  }
  return copied;
}
