import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** A bundle's manifest.json, as far as the check needs it. */
export interface ManifestFiles {
  readonly files: readonly { readonly path: string; readonly sha256: string; readonly bytes: number; readonly records: number }[];
  readonly messages: number;
  readonly conversations: number;
}

/** Paths a bundle may hold: the server chooses them, so the client writes nothing else (no `..`, no absolute path). */
const BUNDLE_PATH =
  /^(?:messages\.jsonl|messages\.csv|manifest\.json|transcripts\/[A-Za-z0-9_-]{1,128}\.html|log\/(?:checkpoint|verifier-key|records\.jsonl|proofs\.jsonl))$/;

/** Whether the server's `bundlePath` is one the client may write. */
export function isBundlePath(bundlePath: string): boolean {
  return BUNDLE_PATH.test(bundlePath);
}

/** Longest manifest the client reads into memory (about 150 bytes per file: room for 400,000 transcripts). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

function sha256OfFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (data) => hash.update(data))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(dir, path.posix.join(prefix, entry.name)) : [path.posix.join(prefix, entry.name)],
  );
}

/**
 * Checks a bundle directory against its manifest.json, reading every file back from disk: each listed file exists
 * with the listed size and SHA-256, and no file is there that the manifest does not list. Returns the problems
 * (empty when the bundle is intact) and the manifest.
 */
export async function verifyBundle(dir: string): Promise<{ problems: string[]; manifest?: ManifestFiles }> {
  const manifestFile = path.join(dir, 'manifest.json');
  let manifest: ManifestFiles;
  try {
    if (statSync(manifestFile).size > MAX_MANIFEST_BYTES) return { problems: ['manifest.json is too large'] };
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as ManifestFiles;
    if (!Array.isArray(manifest.files)) throw new Error('no files list');
  } catch (error) {
    return { problems: [`manifest.json is missing or unreadable: ${(error as Error).message}`] };
  }
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    if (typeof entry.path !== 'string' || !isBundlePath(entry.path) || entry.path === 'manifest.json') {
      problems.push('the manifest lists a path a bundle cannot have');
      continue;
    }
    listed.add(entry.path);
    const file = path.join(dir, entry.path);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      problems.push(`${entry.path}: listed in the manifest but missing`);
      continue;
    }
    if (size !== entry.bytes) problems.push(`${entry.path}: ${size} bytes, the manifest says ${entry.bytes}`);
    const sha256 = await sha256OfFile(file);
    if (sha256 !== entry.sha256) problems.push(`${entry.path}: SHA-256 ${sha256} does not match the manifest's ${entry.sha256}`);
  }
  for (const file of filesUnder(dir)) if (file !== 'manifest.json' && !listed.has(file)) problems.push(`${file}: not in the manifest`);
  return { problems, manifest };
}
