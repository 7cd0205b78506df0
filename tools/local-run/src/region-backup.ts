import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isPortOpen } from '@waygate/testing';
import { regionNatsStoreDir, type Region } from './stack';

/** What a backup folder holds, written last as `manifest.json` (a folder without it is an unfinished backup). */
/**
 * A region's files besides SQLite: media-store's blobs and keys (apps/media-store/README.md), and ingress's local
 * verification secret (pending codes are checked against HMACs under it), and the archive's log signing key (a new
 * key could not vouch for the checkpoints signed so far).
 */
const REGION_MEDIA_FILES = ['media-blobs', 'keyring.kek', 'media-store.key', 'verification.secret', 'log-signing.key'] as const;

export interface BackupManifest {
  readonly format: 'waygate-region-backup/1';
  readonly region: Region;
  readonly createdAt: string;
  /** Each SQLite file (by name) with its schema version (the highest applied migration). */
  readonly sqlite: readonly { readonly file: string; readonly schemaVersion: number }[];
  /** Whether the JetStream store was copied while its nats-server was stopped (exact) or running (crash-consistent). */
  readonly jetstream: 'stopped' | 'running' | 'absent';
  /** SHA-256 of every file of the backup (relative path -> hex), checked before a restore. */
  readonly sha256: Readonly<Record<string, string>>;
}

function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((relative) => statSync(path.join(root, relative)).isFile());
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Backs up one region of a local data folder into `out` (which must not exist or be empty):
 * - every `<data>/<region>/*.sqlite` with SQLite's online backup API (better-sqlite3 `db.backup()`): a consistent
 *   copy of each file, WAL included, while the services keep writing;
 * - media-store's encrypted blobs (`media-blobs/`), the local key-encryption key (`keyring.kek`: without it the
 *   wrapped data keys in the JetStream store cannot be unwrapped) release 1's `media-store.key` and ingress's `verification.secret` where present;
 * - the region's JetStream store folder, copied as files: exact when its nats-server is stopped, crash-consistent
 *   (what a power cut leaves, which JetStream recovers from) while it runs. In production use JetStream snapshots
 *   (`nats stream backup`) and `mongodump` instead (docs/backups.md).
 */
export async function backupRegion(options: { dataDir: string; region: Region; out: string; natsPort?: number }): Promise<BackupManifest> {
  const dataDir = path.resolve(options.dataDir);
  const regionDir = path.join(dataDir, options.region);
  const out = path.resolve(options.out);
  if (!existsSync(regionDir)) throw new Error(`no data for region ${options.region} in ${dataDir}`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`${out} is not empty`);
  mkdirSync(path.join(out, 'sqlite'), { recursive: true });

  const sqlite: { file: string; schemaVersion: number }[] = [];
  for (const name of readdirSync(regionDir)
    .filter((file) => file.endsWith('.sqlite'))
    .sort()) {
    const db = new Database(path.join(regionDir, name), { readonly: true, fileMustExist: true });
    try {
      await db.backup(path.join(out, 'sqlite', name));
      const hasMigrations = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
      const version = hasMigrations ? Number(db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations').pluck().get()) : 0;
      sqlite.push({ file: name, schemaVersion: version });
    } finally {
      db.close();
    }
  }
  // The media vault: its encrypted blob files, the local key-encryption key that wraps their data keys (the wrapped
  // keys themselves are in the JetStream store), and release 1's single media key where old media still uses it.
  for (const name of REGION_MEDIA_FILES) {
    const source = path.join(regionDir, name);
    if (existsSync(source)) cpSync(source, path.join(out, name), { recursive: true });
  }

  const natsStore = regionNatsStoreDir(dataDir, options.region);
  let jetstream: BackupManifest['jetstream'] = 'absent';
  if (existsSync(natsStore)) {
    jetstream = options.natsPort !== undefined && (await isPortOpen(options.natsPort)) ? 'running' : 'stopped';
    cpSync(natsStore, path.join(out, 'nats'), { recursive: true });
  }

  const sha256 = Object.fromEntries(filesUnder(out).map((relative) => [relative, sha256Of(path.join(out, relative))]));
  const manifest: BackupManifest = {
    format: 'waygate-region-backup/1',
    region: options.region,
    createdAt: new Date().toISOString(),
    sqlite,
    jetstream,
    sha256,
  };
  writeFileSync(path.join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads and checks a backup folder: its manifest, and every file's SHA-256. Throws naming what is wrong. */
export function verifyBackup(from: string): BackupManifest {
  const manifestFile = path.join(from, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${from} has no manifest.json: not a backup, or an unfinished one`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
  if (manifest.format !== 'waygate-region-backup/1') throw new Error(`${manifestFile}: unknown format ${String(manifest.format)}`);
  const present = new Set(filesUnder(from).filter((relative) => relative !== 'manifest.json'));
  for (const [relative, expected] of Object.entries(manifest.sha256)) {
    if (!present.has(relative)) throw new Error(`backup file missing: ${relative}`);
    if (sha256Of(path.join(from, relative)) !== expected) throw new Error(`backup file changed since the backup: ${relative}`);
    present.delete(relative);
  }
  if (present.size > 0) throw new Error(`files not in the manifest: ${[...present].join(', ')}`);
  return manifest;
}

/**
 * Restores a backup into a data folder, replacing the region's SQLite files (with their -wal and -shm), its media key
 * and its JetStream store. The region must be stopped (its nats-server port closed); the backup is verified first, so
 * a damaged one changes nothing. Other regions' data and the shared files (tenants, credentials) are left alone.
 * Services run their migrations at the next start, so a backup of an older release restores into a newer one.
 */
export async function restoreRegion(options: { dataDir: string; from: string; natsPort?: number }): Promise<BackupManifest> {
  const from = path.resolve(options.from);
  const manifest = verifyBackup(from);
  if (options.natsPort !== undefined && (await isPortOpen(options.natsPort))) {
    throw new Error(`region ${manifest.region} is running (port ${options.natsPort} is open): stop it before restoring`);
  }
  const dataDir = path.resolve(options.dataDir);
  const regionDir = path.join(dataDir, manifest.region);
  mkdirSync(regionDir, { recursive: true });
  for (const name of readdirSync(regionDir).filter((file) => /\.sqlite(-wal|-shm)?$/.test(file))) rmSync(path.join(regionDir, name));
  for (const { file } of manifest.sqlite) cpSync(path.join(from, 'sqlite', file), path.join(regionDir, file));
  for (const name of REGION_MEDIA_FILES) {
    rmSync(path.join(regionDir, name), { recursive: true, force: true });
    if (existsSync(path.join(from, name))) cpSync(path.join(from, name), path.join(regionDir, name), { recursive: true });
  }
  const natsStore = regionNatsStoreDir(dataDir, manifest.region);
  rmSync(natsStore, { recursive: true, force: true });
  if (existsSync(path.join(from, 'nats'))) cpSync(path.join(from, 'nats'), natsStore, { recursive: true });
  return manifest;
}
