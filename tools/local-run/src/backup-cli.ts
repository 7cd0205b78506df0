/**
 * `npm run backup -- --region eu --out DIR` and `npm run restore -- --from DIR`: a local region's backup and restore
 * (tools/local-run/src/region-backup.ts; docs/backups.md). Reads WAYGATE_DATA_DIR (default .data); the region's
 * nats-server port (WAYGATE_DEV_NATS_PORT, default 4222 for eu, 4322 for us) tells whether it runs.
 */
import { parseArgs } from 'node:util';
import { backupRegion, restoreRegion, verifyBackup } from './region-backup';
import { DEFAULT_PORTS, regionPorts, type Region } from './stack';

function natsPort(region: Region): number {
  const base = process.env.WAYGATE_DEV_NATS_PORT ? Number(process.env.WAYGATE_DEV_NATS_PORT) : DEFAULT_PORTS.nats;
  return regionPorts({ ...DEFAULT_PORTS, nats: base }, region).nats;
}

function asRegion(value: string | undefined): Region {
  if (value !== 'eu' && value !== 'us') throw new Error(`--region: eu or us (got "${String(value)}")`);
  return value;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: { region: { type: 'string' }, out: { type: 'string' }, from: { type: 'string' }, 'data-dir': { type: 'string' } },
  });
  const dataDir = values['data-dir'] ?? process.env.WAYGATE_DATA_DIR ?? '.data';
  if (command === 'backup') {
    const region = asRegion(values.region);
    if (!values.out) throw new Error('--out DIR: where to write the backup (a new or empty folder)');
    const manifest = await backupRegion({ dataDir, region, out: values.out, natsPort: natsPort(region) });
    console.log(
      `Backed up region ${region} into ${values.out}: ${manifest.sqlite.map((s) => `${s.file} (schema ${s.schemaVersion})`).join(', ')}; JetStream store ${manifest.jetstream === 'running' ? 'copied while running (crash-consistent)' : manifest.jetstream}`,
    );
    return;
  }
  if (command === 'restore') {
    if (!values.from) throw new Error('--from DIR: the backup folder');
    const backup = verifyBackup(values.from);
    if (values.region !== undefined && asRegion(values.region) !== backup.region)
      throw new Error(`the backup is of region ${backup.region}, not ${values.region}`);
    const manifest = await restoreRegion({ dataDir, from: values.from, natsPort: natsPort(backup.region) });
    console.log(`Restored region ${manifest.region} from ${values.from} (taken ${manifest.createdAt}); start it with npm start`);
    return;
  }
  throw new Error('usage: backup-cli.ts backup --region eu|us --out DIR | restore --from DIR [--region eu|us]');
}

main().catch((error: unknown) => {
  console.error(`${(error as Error).message}`);
  process.exit(1);
});
