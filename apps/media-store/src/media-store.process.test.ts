/** media-store as a real process, as `npm start` runs it: a SIGTERM right after its readiness line drains it. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir, freePort, startServiceProcess, tenantsYaml } from '@waygate/testing';

const dir = createTempDir();
after(() => dir.remove());

// The readiness line is logged inside start; SIGTERM's handler must already be there (runService installs it first),
// or the signal kills the process instead of draining it. Before that fix, about half of these stops were kills.
test('SIGTERM right after "media-store listening" stops it cleanly (exit 0, "stopped" logged)', async () => {
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
  const mediaStore = await startServiceProcess('media-store', {
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: String(await freePort()),
  });
  assert.deepEqual(await mediaStore.stop('SIGTERM'), { code: 0, signal: null }, mediaStore.outputTail());
  assert.match(mediaStore.outputTail(1), /"msg":"stopped"/);
});
