import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { K8sObject } from './helm-chart';

/** The variables through which the chart configures a service's gRPC TLS (libs/config's parseTlsConfig reads them). */
export const TLS_VARIABLES = [
  'WAYGATE_TLS_CERT_FILE',
  'WAYGATE_TLS_KEY_FILE',
  'WAYGATE_TLS_CLIENT_CA_FILE',
  'WAYGATE_INTERNAL_TLS_CA_FILE',
] as const;

interface PodSpec {
  containers: { env?: { name: string; value?: string }[]; volumeMounts?: { name: string; mountPath: string }[] }[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}

/**
 * Lays out on disk what the pod of a rendered Deployment would see of its TLS Secrets, and returns its TLS variables
 * pointing there: each Secret volume mounted at a path the variables name becomes a folder under `dir`, holding the
 * volume's items (file name = item path) copied from `secretFiles[secretName][key]`. Throws if a variable points
 * outside every mounted Secret volume, or an item's key has no file: the render would not work in a pod either.
 */
export function mountRenderedTlsSecrets(
  objects: readonly K8sObject[],
  deploymentName: string,
  secretFiles: Readonly<Record<string, Readonly<Record<string, string>>>>,
  dir: string,
): Record<string, string> {
  const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === deploymentName);
  if (!deployment) throw new Error(`Deployment ${deploymentName} not rendered`);
  const pod = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers[0];
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (!(TLS_VARIABLES as readonly string[]).includes(variable.name) || variable.value === undefined) continue;
    const mount = (container.volumeMounts ?? []).find((candidate) => variable.value?.startsWith(`${candidate.mountPath}/`));
    const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name);
    if (!mount || !volume?.secret) throw new Error(`${deploymentName}: ${variable.name}=${variable.value} is in no mounted Secret`);
    const folder = path.join(dir, deploymentName, volume.name);
    mkdirSync(folder, { recursive: true });
    for (const item of volume.secret.items ?? []) {
      const source = secretFiles[volume.secret.secretName]?.[item.key];
      if (!source) throw new Error(`${deploymentName}: no file for key ${item.key} of Secret ${volume.secret.secretName}`);
      copyFileSync(source, path.join(folder, item.path));
    }
    env[variable.name] = path.join(folder, variable.value.slice(mount.mountPath.length + 1));
  }
  return env;
}
