import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@waygate/telemetry';
import { loadTenantsFile } from './load-tenants-file';
import { hashApiKey } from './tenant-directory';
import { startTenantsFileReloader } from './tenants-file-reloader';

const tenantYaml = (id: string, key: string) => `
  - id: ${id}
    name: ${id}
    homeRegion: eu
    apiKeys: [{ sha256: ${hashApiKey(key)} }]
    whatsapp:
      wabaId: "waba-${id}"
      appSecret: \${SECRET_${id.toUpperCase()}}
      verifyToken: verify-${id}
      phoneNumbers: [{ id: "pn-${id}", displayPhoneNumber: "+15550001111", accessToken: token-${id} }]`;

function capturingLogger(): { logger: Logger; lines: { level: string; fields: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { logger: { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') } as unknown as Logger, lines };
}

test('reload swaps the directory in place, tells listeners, skips an unchanged file and refuses a broken one', () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'waygate-tenants-'));
  const file = path.join(folder, 'tenants.yaml');
  const env = { SECRET_ACME: 's-acme', SECRET_GLOBEX: 's-globex' };
  try {
    writeFileSync(file, `tenants:${tenantYaml('acme', 'key-acme')}\n`);
    const directory = loadTenantsFile(file, env);
    const { logger, lines } = capturingLogger();
    const reloader = startTenantsFileReloader({ file, directory, logger, env, onSighup: false });
    const seen: number[] = [];
    directory.onChange((changed) => seen.push(changed.revision));
    try {
      assert.deepEqual(reloader.reload(), { kind: 'unchanged' });

      writeFileSync(file, `tenants:${tenantYaml('globex', 'key-globex')}\n`);
      assert.deepEqual(reloader.reload('test'), { kind: 'reloaded', tenants: 1 });
      assert.equal(directory.authenticate('key-globex')?.id, 'globex');
      assert.equal(directory.authenticate('key-acme'), undefined, 'a removed key is refused');
      assert.equal(directory.findPhoneNumber('pn-globex')?.tenant.whatsapp.appSecret, 's-globex');
      assert.deepEqual(seen, [1]);

      // A secret resolved from the environment is part of the configuration: its change is a change.
      const rotated = startTenantsFileReloader({ file, directory, logger, env: { SECRET_GLOBEX: 'rotated' }, onSighup: false });
      assert.deepEqual(rotated.reload(), { kind: 'reloaded', tenants: 1 });
      rotated.close();

      writeFileSync(file, `tenants:${tenantYaml('globex', 'key-globex')}\n    unexpected: [`);
      const refused = reloader.reload('test');
      assert.equal(refused.kind, 'refused');
      assert.equal(directory.authenticate('key-globex')?.id, 'globex', 'the previous configuration stays');
      const line = lines.at(-1);
      assert.equal(line?.level, 'error');
      assert.match(line?.msg ?? '', /tenants file refused; the previous configuration stays in force/);
      assert.doesNotMatch(JSON.stringify(lines), /s-globex|rotated/, 'no secret is logged');
    } finally {
      reloader.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a validation hook refuses a parsed file (the previous one stays in force) and is told of each accepted one', () => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'waygate-tenants-'));
  const file = path.join(folder, 'tenants.yaml');
  const env = { SECRET_ACME: 's-acme', SECRET_GLOBEX: 's-globex' };
  try {
    writeFileSync(file, `tenants:${tenantYaml('acme', 'key-acme')}\n`);
    const directory = loadTenantsFile(file, env);
    const { logger, lines } = capturingLogger();
    const accepted: string[][] = [];
    const reloader = startTenantsFileReloader({
      file,
      directory,
      logger,
      env,
      onSighup: false,
      validate: {
        check: (next) => (next.get('globex') ? ['tenant "globex", governance.mode: not allowed here'] : []),
        accepted: (next) => accepted.push(next.tenants.map((tenant) => tenant.id)),
      },
    });
    try {
      writeFileSync(file, `tenants:${tenantYaml('acme', 'key-acme')}${tenantYaml('globex', 'key-globex')}\n`);
      const refused = reloader.reload('test');
      assert.equal(refused.kind, 'refused');
      assert.match(refused.kind === 'refused' ? refused.reason : '', /tenant "globex", governance\.mode: not allowed here/);
      assert.equal(directory.authenticate('key-globex'), undefined, 'the previous configuration stays');
      assert.equal(lines.at(-1)?.level, 'error');
      assert.deepEqual(accepted, []);
      writeFileSync(file, `tenants:${tenantYaml('acme', 'key-acme-2')}\n`);
      assert.deepEqual(reloader.reload('test'), { kind: 'reloaded', tenants: 1 });
      assert.deepEqual(accepted, [['acme']]);
    } finally {
      reloader.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
