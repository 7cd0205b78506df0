/**
 * Builds one app into dist/apps/<name>/: main.js (esbuild bundle of our code; npm packages stay external and are
 * installed in the image with `npm ci --omit=dev`) plus the proto/ folder that server reflection serves.
 * Usage: tsx tools/ci/build-app.ts <app-name> [out-dir]   (out-dir defaults to dist/apps/<app-name>; deploy/Dockerfile
 * and tools/deploy-check build elsewhere)
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const REPO_ROOT = path.resolve(__dirname, '../..');

async function main(): Promise<void> {
  const app = process.argv[2];
  const entry = path.join(REPO_ROOT, 'apps', app ?? '', 'src', 'main.ts');
  if (!app || !existsSync(entry)) throw new Error(`usage: build-app.ts <app> (no ${entry})`);
  const outDir = process.argv[3] ? path.resolve(process.argv[3]) : path.join(REPO_ROOT, 'dist', 'apps', app);
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: [entry],
    outfile: path.join(outDir, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    // tsconfig paths resolve @waygate/* into the bundle first; every other package import stays a require().
    packages: 'external',
    tsconfig: path.join(REPO_ROOT, 'tsconfig.base.json'),
    logLevel: 'warning',
    metafile: true,
  });
  cpSync(path.join(REPO_ROOT, 'proto'), path.join(outDir, 'proto'), { recursive: true, filter: (source) => !source.endsWith('.yaml') });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  console.log(`built ${path.relative(REPO_ROOT, outDir) || outDir}/main.js (${Math.round(bytes / 1024)} KiB with source map)`);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
