import type { K8sObject } from './helm-chart';

/** The policies every rendered workload must meet (deploy/README.md, "CI checks"). */
export const POLICIES = [
  'probes',
  'tls-probes',
  'limits',
  'non-root',
  'read-only-root-fs',
  'no-privilege-escalation',
  'capabilities-dropped',
  'seccomp',
  'image-pinned',
  'companions',
] as const;
export type PolicyName = (typeof POLICIES)[number];

export interface PolicyViolation {
  readonly policy: PolicyName;
  /** `Kind/name` or `Kind/name container` */
  readonly where: string;
  readonly message: string;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}

interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
  startupProbe?: { grpc?: unknown };
  readinessProbe?: { grpc?: unknown };
  livenessProbe?: { grpc?: unknown };
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  securityContext?: SecurityContext;
}

interface PodSpec {
  securityContext?: SecurityContext;
  containers?: Container[];
  initContainers?: Container[];
}

/** Kinds that run pods, and where their pod spec is. */
function podSpecOf(object: K8sObject): PodSpec | undefined {
  if (!['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(object.kind)) return undefined;
  const template = (object.spec as { template?: { spec?: PodSpec } } | undefined)?.template;
  return template?.spec ?? {};
}

/** Probes, limits and the security context of each container (long-running containers need probes; init ones do not). */
function containerViolations(where: string, pod: PodSpec, container: Container, isInit: boolean): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const add = (policy: PolicyName, message: string) => violations.push({ policy, where: `${where} container ${container.name}`, message });
  const pick = <K extends keyof SecurityContext>(key: K): SecurityContext[K] =>
    container.securityContext?.[key] ?? pod.securityContext?.[key];

  if (!isInit) {
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
      if (!container[probe]) add('probes', `has no ${probe}`);
    }
    // kubelet's gRPC probes speak plaintext only: against a gRPC port that speaks TLS they fail, and the pod never
    // becomes ready (or is restarted forever).
    if ((container.env ?? []).some((variable) => variable.name === 'WAYGATE_TLS_CERT_FILE')) {
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        if (container[probe]?.grpc) add('tls-probes', `${probe} is a plaintext gRPC probe, but its gRPC port speaks TLS`);
      }
    }
  }
  if (!container.resources?.limits?.memory) add('limits', 'has no memory limit');
  if (!container.resources?.requests?.cpu || !container.resources.requests.memory) add('limits', 'has no cpu and memory requests');

  // Kubernetes applies the container's setting, else the pod's.
  if (pick('runAsNonRoot') !== true) add('non-root', 'runAsNonRoot is not true');
  if (pick('runAsUser') === 0) add('non-root', 'runAsUser is 0');
  if (container.securityContext?.privileged) add('non-root', 'is privileged');
  if (container.securityContext?.readOnlyRootFilesystem !== true) add('read-only-root-fs', 'readOnlyRootFilesystem is not true');
  if (container.securityContext?.allowPrivilegeEscalation !== false)
    add('no-privilege-escalation', 'allowPrivilegeEscalation is not false');
  const capabilities = container.securityContext?.capabilities;
  if (!capabilities?.drop?.includes('ALL')) add('capabilities-dropped', 'does not drop ALL capabilities');
  if ((capabilities?.add ?? []).length > 0) add('capabilities-dropped', `adds capabilities ${capabilities?.add?.join(', ')}`);
  const seccomp = pick('seccompProfile')?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
    add('seccomp', `seccompProfile is ${seccomp ?? 'unset'}, not RuntimeDefault`);
  const image = container.image ?? '';
  const [reference, digest] = image.split('@');
  const tag = /:([^/:]+)$/.exec(reference)?.[1];
  if (!digest && (tag === undefined || tag === 'latest'))
    add('image-pinned', `image ${image || '(none)'} is not pinned to a tag other than latest or a digest`);
  return violations;
}

function targets(object: K8sObject, deployment: string): boolean {
  const ref = (object.spec as { scaleTargetRef?: { name?: string } } | undefined)?.scaleTargetRef;
  return ref?.name === deployment;
}

/** Whether a Service (flat `spec.selector`) or a PDB/NetworkPolicy (`matchLabels`) selects pods with these labels. */
function selects(object: K8sObject, labels: Record<string, string>, selectorPath: 'selector' | 'podSelector'): boolean {
  const selector = (object.spec as Record<string, Record<string, unknown>> | undefined)?.[selectorPath];
  const match = (object.kind === 'Service' ? selector : selector?.matchLabels) as Record<string, string> | undefined;
  return match !== undefined && Object.keys(match).length > 0 && Object.entries(match).every(([key, value]) => labels[key] === value);
}

/** Each Deployment comes with a Service, a PodDisruptionBudget, an HPA or a KEDA ScaledObject, a NetworkPolicy and topology spread. */
function companionViolations(deployment: K8sObject, all: readonly K8sObject[]): PolicyViolation[] {
  const where = `Deployment/${deployment.metadata.name}`;
  const spec = deployment.spec as {
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { topologySpreadConstraints?: unknown[] } };
  };
  const podLabels = spec.template?.metadata?.labels ?? {};
  const violations: PolicyViolation[] = [];
  const add = (message: string) => violations.push({ policy: 'companions', where, message });
  const has = (kind: string, test: (object: K8sObject) => boolean) => all.some((object) => object.kind === kind && test(object));
  if (!has('Service', (object) => selects(object, podLabels, 'selector'))) add('no Service selects its pods');
  if (!has('PodDisruptionBudget', (object) => selects(object, podLabels, 'selector'))) add('no PodDisruptionBudget covers its pods');
  if (
    !has('HorizontalPodAutoscaler', (object) => targets(object, deployment.metadata.name)) &&
    !has('ScaledObject', (object) => targets(object, deployment.metadata.name))
  ) {
    add('neither a HorizontalPodAutoscaler nor a KEDA ScaledObject scales it');
  }
  if (!has('NetworkPolicy', (object) => selects(object, podLabels, 'podSelector'))) add('no NetworkPolicy selects its pods');
  if ((spec.template?.spec?.topologySpreadConstraints ?? []).length === 0) add('has no topologySpreadConstraints');
  return violations;
}

/** Every policy violation of a render (empty = compliant). */
export function policyViolations(objects: readonly K8sObject[]): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    const where = `${object.kind}/${object.metadata.name}`;
    if ((pod.containers ?? []).length === 0) violations.push({ policy: 'probes', where, message: 'has no containers' });
    for (const container of pod.containers ?? []) violations.push(...containerViolations(where, pod, container, false));
    for (const container of pod.initContainers ?? []) violations.push(...containerViolations(where, pod, container, true));
    if (object.kind === 'Deployment') violations.push(...companionViolations(object, objects));
  }
  return violations;
}
