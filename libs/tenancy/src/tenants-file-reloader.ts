import { createHash } from 'node:crypto';
import { metrics } from '@opentelemetry/api';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@waygate/telemetry';
import { loadTenantsFile } from './load-tenants-file';
import type { TenantDirectory } from './tenant-directory';

/** Editors and `kubectl` replace a file in several steps; events closer together than this are one change. */
const DEFAULT_DEBOUNCE_MS = 150;

/** What a reload did: the new version was taken, the file was unchanged, or it was refused and the old one kept. */
export type TenantsReloadOutcome = { kind: 'reloaded'; tenants: number } | { kind: 'unchanged' } | { kind: 'refused'; reason: string };

/** A running reloader of the tenants file. */
export interface TenantsFileReloader {
  /** Reloads now (what a file change or SIGHUP triggers); resolves with what happened. */
  reload(trigger?: string): TenantsReloadOutcome;
  /** Stops watching and removes the SIGHUP handler. */
  close(): void;
}

function fingerprint(directory: TenantDirectory): string {
  // Secrets resolved from the environment are part of the configuration too, so the parsed result is compared.
  return createHash('sha256').update(JSON.stringify(directory.tenants)).digest('hex');
}

/**
 * Keeps `directory` in step with the tenants file without a restart: on a change of the file (its folder is watched,
 * so an editor's rename-over and a Kubernetes Secret's `..data` symlink swap are seen too) and on SIGHUP, the file is
 * parsed in full and only then swapped in (`TenantDirectory.replaceWith`). A file that does not parse is refused with
 * one log line naming the bad settings (never a secret), and the previous configuration stays in force.
 */
export function startTenantsFileReloader(options: {
  readonly file: string;
  readonly directory: TenantDirectory;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly debounceMs?: number;
  /** Also reload on SIGHUP (default true); tests running several reloaders in one process turn it off. */
  readonly onSighup?: boolean;
  /**
   * Checks a parsed file before it is swapped in (e.g. retention policies against persisted floors): problems refuse
   * it like a file that does not parse. `accepted` is told of each file swapped in.
   */
  readonly validate?: {
    check(next: TenantDirectory): readonly string[];
    accepted?(next: TenantDirectory): void;
  };
}): TenantsFileReloader {
  const { file, directory, logger } = options;
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let current = fingerprint(directory);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const refusals = metrics.getMeter('@waygate/tenancy').createCounter('waygate_tenants_reload_refused', {
    description: 'tenants-file reloads refused (the previous configuration stays in force), by reason: invalid or policy',
  });

  const reload = (trigger = 'manual'): TenantsReloadOutcome => {
    let next: TenantDirectory;
    try {
      next = loadTenantsFile(file, options.env);
    } catch (error) {
      const reason = (error as Error).message;
      logger.error({ trigger, reason }, 'tenants file refused; the previous configuration stays in force');
      refusals.add(1, { reason: 'invalid' });
      return { kind: 'refused', reason };
    }
    const nextFingerprint = fingerprint(next);
    if (nextFingerprint === current) return { kind: 'unchanged' };
    const problems = options.validate?.check(next) ?? [];
    if (problems.length > 0) {
      const reason = `tenants file refused by policy:\n  - ${problems.join('\n  - ')}`;
      logger.error({ trigger, reason }, 'tenants file refused; the previous configuration stays in force');
      refusals.add(1, { reason: 'policy' });
      return { kind: 'refused', reason };
    }
    directory.replaceWith(next);
    options.validate?.accepted?.(next);
    current = nextFingerprint;
    logger.info({ trigger, tenants: next.tenants.length, revision: directory.revision }, 'tenants file reloaded');
    return { kind: 'reloaded', tenants: next.tenants.length };
  };

  const schedule = (trigger: string) => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => reload(trigger), debounceMs);
  };

  const folder = path.dirname(path.resolve(file));
  const name = path.basename(file);
  // Only events about the file itself, or about Kubernetes' `..data` link that a mounted Secret is swapped through;
  // other files of the folder (data files, in a local run) are none of its business.
  const concernsFile = (changed: string | null) => changed === null || changed === name || changed.startsWith('..');
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(folder, { persistent: false }, (_event, changed) => {
      if (concernsFile(changed)) schedule('file change');
    });
    watcher.on('error', (error) => logger.warn({ err: error, folder }, 'cannot watch the tenants file; reload it with SIGHUP'));
  } catch (error) {
    logger.warn({ err: error, folder }, 'cannot watch the tenants file; reload it with SIGHUP');
  }
  const onSighup = () => schedule('SIGHUP');
  if (options.onSighup !== false) process.on('SIGHUP', onSighup);

  return {
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
      process.off('SIGHUP', onSighup);
    },
  };
}
