import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POLICIES, policyViolations } from './chart-policy';
import { CHART_DIR, REGIONS, SERVICES, regionValues, renderRegion, runHelm, templateArgs, type K8sObject, type Region } from './helm-chart';
import { describeObject, schemaProblems } from './k8s-schema-validation';

const FIXTURES = 'tools/deploy-check/fixtures';
const fixture = (name: string) => `${FIXTURES}/${name}.yaml`;
const named = (objects: readonly K8sObject[], kind: string) =>
  objects
    .filter((object) => object.kind === kind)
    .map((object) => object.metadata.name)
    .sort();
const other = (region: Region): Region => (region === 'eu' ? 'us' : 'eu');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface NetworkPolicyRule {
  ports: { port: number }[];
  from?: Record<string, unknown>[];
}

function containerOf(objects: readonly K8sObject[], name: string) {
  const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name);
  assert.ok(deployment, `Deployment ${name} rendered`);
  const spec = deployment.spec as {
    replicas?: number;
    template: { spec: { containers: { env: EnvVar[] }[]; volumes: Record<string, unknown>[] } };
  };
  return {
    deployment,
    spec,
    container: spec.template.spec.containers[0],
    env: new Map(spec.template.spec.containers[0].env.map((env) => [env.name, env])),
  };
}

for (const region of REGIONS) {
  test(`helm lint --strict passes for ${region} (also with KEDA on)`, () => {
    for (const files of [regionValues(region), regionValues(region, fixture('keda'))]) {
      const result = runHelm(['lint', '--strict', CHART_DIR, ...files.flatMap((file) => ['-f', file])]);
      assert.ok(result.ok, `helm lint ${files.join(' ')}:\n${result.stdout}${result.stderr}`);
    }
  });

  test(`${region}: the render has every service's Deployment, Service, PDB, HPA and NetworkPolicy, plus Ingress and monitoring`, () => {
    const objects = renderRegion(region);
    const expected = SERVICES.map((service) => `waygate-${region}-${service}`).sort();
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy']) {
      assert.deepEqual(named(objects, kind), expected, kind);
    }
    assert.deepEqual(named(objects, 'Ingress'), [`waygate-${region}-receipt`]);
    const ingress = objects.find((object) => object.kind === 'Ingress')?.spec as {
      tls: { hosts: string[]; secretName: string }[];
      rules: { host: string; http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] } }[];
    };
    assert.deepEqual(
      ingress.rules.map(
        (rule) =>
          `${rule.host}${rule.http.paths[0].path} -> ${rule.http.paths[0].backend.service.name}:${rule.http.paths[0].backend.service.port.name}`,
      ),
      [
        `webhooks-${region}.waygate.example.com/webhooks/whatsapp -> waygate-${region}-receipt:http`,
        `media-${region}.waygate.example.com/media/ -> waygate-${region}-media-store:download`,
      ],
    );
    assert.deepEqual(
      ingress.tls[0].hosts,
      [`webhooks-${region}.waygate.example.com`, `media-${region}.waygate.example.com`],
      'TLS for both hosts',
    );
    assert.deepEqual(named(objects, 'ServiceMonitor'), [`waygate-${region}`]);
    assert.deepEqual(named(objects, 'PrometheusRule'), [`waygate-${region}`]);
    for (const object of objects)
      assert.equal(object.metadata.labels?.['waygate.io/region'], region, `${describeObject(object)} region label`);
  });

  test(`${region}: every rendered object is valid against the Kubernetes / prometheus-operator schemas`, () => {
    for (const files of [regionValues(region), regionValues(region, fixture('keda'))]) {
      assert.deepEqual(schemaProblems(renderRegion(region, files)), [], files.join(' '));
    }
  });

  test(`${region}: every workload meets every policy (probes, limits, non-root, read-only root fs, ...)`, () => {
    for (const files of [regionValues(region), regionValues(region, fixture('keda'))]) {
      assert.deepEqual(policyViolations(renderRegion(region, files)), [], files.join(' '));
    }
  });

  test(`${region}: the release is pinned to its own region's NATS and MongoDB and names nothing of the other region`, () => {
    const objects = renderRegion(region);
    for (const service of SERVICES) {
      const { env } = containerOf(objects, `waygate-${region}-${service}`);
      assert.equal(env.get('WAYGATE_REGION')?.value, region);
      assert.equal(env.get('WAYGATE_NATS_URL')?.value, `nats://nats.waygate-${region}.svc.cluster.local:4222`);
      const mongo = env.get('WAYGATE_MONGODB_URI')?.value ?? '';
      assert.match(
        mongo,
        new RegExp(`^mongodb://\\$\\(WAYGATE_MONGODB_USERNAME\\):\\$\\(WAYGATE_MONGODB_PASSWORD\\)@mongodb-${region}-0\\.`),
      );
      assert.equal(env.get('WAYGATE_MONGODB_PASSWORD')?.valueFrom?.secretKeyRef?.name, 'waygate-mongodb-credentials');
    }
    // The one thing that names the other region: where to forward its WABAs' template and account webhooks (no
    // customer data; docs/residency.md). Everything else must not.
    const text = JSON.stringify(objects, (key, value: unknown) =>
      key === 'value' && typeof value === 'string' && value.startsWith('{"') && value.includes('/webhooks/whatsapp')
        ? '<forwarding>'
        : value,
    );
    assert.doesNotMatch(text, new RegExp(`[-.]${other(region)}[-.:/"]`), `the ${region} render mentions ${other(region)} infrastructure`);
  });

  test(`${region}: KEDA replaces the HPA of delivery-retry and receipt with ScaledObjects on this region's streams`, () => {
    const objects = renderRegion(region, regionValues(region, fixture('keda')));
    assert.deepEqual(named(objects, 'ScaledObject'), [`waygate-${region}-delivery-retry`, `waygate-${region}-receipt`]);
    assert.deepEqual(named(objects, 'HorizontalPodAutoscaler'), [
      `waygate-${region}-archive`,
      `waygate-${region}-ingress`,
      `waygate-${region}-media-store`,
    ]);
    const receipt = objects.find((object) => object.kind === 'ScaledObject' && object.metadata.name.endsWith('-receipt'));
    const triggers = (receipt?.spec as { triggers: { metadata: Record<string, string> }[] }).triggers;
    assert.deepEqual(
      triggers.map((trigger) => `${trigger.metadata.stream}/${trigger.metadata.consumer}`),
      [`WAYGATE_${region.toUpperCase()}_WEBHOOKS/receipt-webhooks`, `WAYGATE_${region.toUpperCase()}_EVENTS/receipt-tenant-feed`],
    );
    assert.equal(triggers[0].metadata.natsServerMonitoringEndpoint, `nats.waygate-${region}.svc.cluster.local:8222`);
    for (const service of ['delivery-retry', 'receipt']) {
      assert.equal(containerOf(objects, `waygate-${region}-${service}`).spec.replicas, undefined, `${service}: replicas left to KEDA`);
    }
  });
}

test('NetworkPolicies: tenant-facing ports from anywhere, delivery-retry and metrics only from the release (and Prometheus)', () => {
  const objects = renderRegion('eu');
  const releasePeer = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'waygate', 'app.kubernetes.io/instance': 'waygate-eu' } } };
  /** The ports reachable from a source that is not a pod of this release nor the monitoring namespace. */
  const openPorts = (service: string) => {
    const policy = objects.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === `waygate-eu-${service}`);
    const rules = (policy?.spec as { ingress: NetworkPolicyRule[] }).ingress;
    return rules
      .filter((rule) => rule.from === undefined)
      .flatMap((rule) => rule.ports.map((port) => port.port))
      .sort((a, b) => a - b);
  };
  assert.deepEqual(openPorts('ingress'), [50051]);
  assert.deepEqual(openPorts('receipt'), [8080, 50052]);
  assert.deepEqual(openPorts('media-store'), [8090, 50053]);
  assert.deepEqual(openPorts('archive'), [50054]);
  assert.deepEqual(openPorts('delivery-retry'), [], "delivery-retry's admin API is internal");
  const deliveryRules = (
    objects.find((object) => object.metadata.name === 'waygate-eu-delivery-retry' && object.kind === 'NetworkPolicy')?.spec as {
      ingress: NetworkPolicyRule[];
    }
  ).ingress;
  assert.deepEqual(deliveryRules[0].from, [releasePeer]);
  assert.deepEqual(
    deliveryRules[0].ports.map((port) => port.port).sort((a, b) => a - b),
    [9464, 50055],
  );
  assert.deepEqual(deliveryRules[1], {
    ports: [{ port: 9464, protocol: 'TCP' }],
    from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
  });
  // Restricting tenants to a peer list closes the tenant-facing ports to everyone else.
  const restricted = renderRegion('eu', regionValues('eu'), ['networkPolicy.tenantFrom[0].ipBlock.cidr=10.0.0.0/8']);
  const ingressRules = (
    restricted.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'waygate-eu-ingress')?.spec as {
      ingress: NetworkPolicyRule[];
    }
  ).ingress;
  assert.ok(ingressRules.every((rule) => rule.from !== undefined));
  assert.deepEqual(ingressRules[0].from, [{ ipBlock: { cidr: '10.0.0.0/8' } }]);
});

test('the root filesystem is read-only; /tmp and the data dir are writable volumes; metrics are served on the metrics port', () => {
  const objects = renderRegion('eu');
  for (const service of SERVICES) {
    const { spec, env, container } = containerOf(objects, `waygate-eu-${service}`);
    const mounts = (container as unknown as { volumeMounts: { name: string; mountPath: string }[] }).volumeMounts;
    const secretMounts = ['media-store', 'ingress', 'delivery-retry'].includes(service)
      ? ['/etc/waygate/keyring', '/etc/waygate/tenants']
      : ['/etc/waygate/tenants'];
    assert.deepEqual(mounts.map((mount) => mount.mountPath).sort(), [...secretMounts, '/tmp', '/var/lib/waygate']);
    assert.deepEqual(
      spec.template.spec.volumes
        .filter((volume) => 'emptyDir' in volume)
        .map((volume) => volume.name)
        .sort(),
      ['data', 'tmp'],
    );
    assert.equal(env.get('WAYGATE_DATA_DIR')?.value, '/var/lib/waygate');
    assert.equal(env.get('WAYGATE_METRICS_HOST')?.value, '0.0.0.0');
    assert.equal(env.get('WAYGATE_METRICS_PORT')?.value, '9464');
    const ports = (container as unknown as { ports: { name: string; containerPort: number }[] }).ports;
    assert.ok(
      ports.some((port) => port.name === 'metrics' && port.containerPort === 9464),
      `${service} exposes metrics`,
    );
  }
  const media = containerOf(objects, 'waygate-eu-media-store').env;
  assert.equal(media.get('WAYGATE_MEDIA_HTTP_PORT')?.value, '8090', 'signed-URL downloads on the download port');
  assert.equal(media.get('WAYGATE_MEDIA_HTTP_HOST')?.value, '0.0.0.0');
  assert.equal(media.get('WAYGATE_MEDIA_PUBLIC_URL')?.value, 'https://media-eu.waygate.example.com');
  const { env } = containerOf(renderRegion('eu', regionValues('eu'), ['metrics.port=9100']), 'waygate-eu-archive');
  assert.equal(env.get('WAYGATE_METRICS_PORT')?.value, '9100', 'the metrics port is a value');
});

test('Secrets: existingSecret is used as is; without it, inline values go into one chart-made Secret', () => {
  const existing = renderRegion('eu');
  assert.deepEqual(named(existing, 'Secret'), [], 'with existingSecret everywhere the chart makes no Secret');
  const inline = renderRegion('eu', regionValues('eu'), [
    'tenants.existingSecret=',
    'tenants.content=tenants: []',
    'internalServiceToken.existingSecret=',
    'internalServiceToken.value=0123456789abcdef0123456789abcdef',
  ]);
  const secret = inline.find((object) => object.kind === 'Secret');
  assert.equal(secret?.metadata.name, 'waygate-eu-secrets');
  const data = secret?.data as Record<string, string>;
  assert.deepEqual(Object.keys(data).sort(), ['tenants.yaml', 'token']);
  assert.equal(Buffer.from(data.token, 'base64').toString(), '0123456789abcdef0123456789abcdef');
  const { spec, env } = containerOf(inline, 'waygate-eu-ingress');
  assert.equal(env.get('WAYGATE_INTERNAL_SERVICE_TOKEN')?.valueFrom?.secretKeyRef?.name, 'waygate-eu-secrets');
  const tenants = spec.template.spec.volumes.find((volume) => volume.name === 'tenants') as { secret: { secretName: string } };
  assert.equal(tenants.secret.secretName, 'waygate-eu-secrets');
  // The KEK still comes from its existing Secret, mounted into the keyring's users: media-store, ingress, delivery-retry.
  const media = containerOf(inline, 'waygate-eu-media-store');
  const keyring = media.spec.template.spec.volumes.find((volume) => volume.name === 'keyring') as { secret: { secretName: string } };
  assert.equal(keyring.secret.secretName, 'waygate-media-kek');
  assert.equal(media.env.get('WAYGATE_KEYRING_KEK_FILE')?.value, '/etc/waygate/keyring/kek');
  assert.equal(media.env.has('WAYGATE_MEDIA_ENCRYPTION_KEY'), false, 'replaced by the keyring; media-store refuses it');
  for (const service of ['receipt', 'archive']) {
    assert.ok(
      !containerOf(inline, `waygate-eu-${service}`).spec.template.spec.volumes.some((volume) => volume.name === 'keyring'),
      `${service} has no KEK`,
    );
  }
  for (const service of ['ingress', 'delivery-retry']) {
    const { spec: withKek, env: kekEnv } = containerOf(inline, `waygate-eu-${service}`);
    assert.ok(
      withKek.template.spec.volumes.some((volume) => volume.name === 'keyring'),
      `${service} opens sealed codes`,
    );
    assert.equal(kekEnv.get('WAYGATE_KEYRING_KEK_FILE')?.value, '/etc/waygate/keyring/kek');
  }
  assert.equal(env.get('WAYGATE_VERIFICATION_SECRET')?.valueFrom?.secretKeyRef?.name, 'waygate-verification-secret');
  assert.equal(
    containerOf(inline, 'waygate-eu-archive').env.get('WAYGATE_LOG_SIGNING_KEY')?.valueFrom?.secretKeyRef?.name,
    'waygate-log-signing-key',
    "the archive signs its log's checkpoints with the region key",
  );
  const kekInline = renderRegion('eu', regionValues('eu'), ['media.kek.existingSecret=', 'media.kek.value=AAAA']);
  assert.deepEqual(Object.keys(kekInline.find((object) => object.kind === 'Secret')?.data as Record<string, string>), ['kek']);
  assert.deepEqual(schemaProblems(inline), []);
});

test('without autoscaling the Deployments keep their replica count and no HPA is rendered', () => {
  const objects = renderRegion('eu', regionValues('eu'), ['autoscaling.enabled=false']);
  assert.deepEqual(named(objects, 'HorizontalPodAutoscaler'), []);
  assert.equal(containerOf(objects, 'waygate-eu-ingress').spec.replicas, 2);
  assert.equal(containerOf(renderRegion('eu'), 'waygate-eu-ingress').spec.replicas, undefined, 'the HPA owns the count');
  const hpa = renderRegion('eu').find(
    (object) => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === 'waygate-eu-ingress',
  );
  assert.equal((hpa?.spec as { minReplicas: number }).minReplicas, 2, 'minReplicas defaults to the service replicas');
});

for (const [label, sets, message] of [
  ['the Ingress without a host', ['ingress.host='], '.Values.ingress.host is required'],
  [
    'the archive without its log signing key',
    ['archiveLog.signingKey.existingSecret='],
    '.Values.archiveLog.signingKey.existingSecret is required',
  ],
  ['the Ingress without a TLS Secret', ['ingress.tls.secretName='], '.Values.ingress.tls.secretName is required'],
  [
    'KEDA without the NATS monitor',
    ['keda.natsMonitoringEndpoint=', 'services.receipt.keda.enabled=true'],
    '.Values.keda.natsMonitoringEndpoint is required',
  ],
  ['a MongoDB URI with credentials in values', ['mongodb.uri=mongodb://u:p@db:27017/x'], 'without credentials'],
  ['no MongoDB at all', ['mongodb.uri='], '.Values.mongodb.existingSecret'],
  [
    'a Gateway API route without a Gateway',
    ['gatewayApi.enabled=true', 'gatewayApi.host=a.example.com'],
    '.Values.gatewayApi.host and .Values.gatewayApi.parentRefs are required',
  ],
  ['a tenant-facing port that does not exist', ['services.archive.tenantFacingPorts[0]=http'], 'tenantFacingPorts names "http"'],
] as const) {
  test(`rendering refuses ${label} with a clear message`, () => {
    const result = runHelm(templateArgs('eu', regionValues('eu'), sets));
    assert.equal(result.ok, false, 'rendering should fail');
    assert.ok(result.stderr.includes(message), `expected '${message}' in:\n${result.stderr}`);
  });
}

test('schema validation refuses a broken render (a probe period that is not an integer)', () => {
  const problems = schemaProblems(renderRegion('eu', regionValues('eu', fixture('broken-schema'))));
  assert.equal(problems.length, SERVICES.length, problems.join('\n'));
  for (const problem of problems) assert.match(problem, /^Deployment\/waygate-eu-.*readinessProbe\/periodSeconds must be integer/);
});

test('the webhook can go through a Gateway API HTTPRoute instead of the Ingress; its structural check refuses a wrong backend port', () => {
  const objects = renderRegion('eu', regionValues('eu', fixture('gateway-api')));
  assert.deepEqual(named(objects, 'Ingress'), []);
  assert.deepEqual(named(objects, 'HTTPRoute'), ['waygate-eu-receipt']);
  assert.deepEqual(schemaProblems(objects), []);
  assert.deepEqual(policyViolations(objects), []);
  // The route's backend on a port its Service does not have.
  const broken = objects.map((object) =>
    object.kind === 'HTTPRoute'
      ? { ...object, spec: JSON.parse(JSON.stringify(object.spec).replace('"port":8080', '"port":8081')) as Record<string, unknown> }
      : object,
  );
  assert.deepEqual(schemaProblems(broken), ['HTTPRoute/waygate-eu-receipt: spec.rules[0]: backend waygate-eu-receipt has no port 8081']);
});

test('the structural ScaledObject check refuses a broken KEDA render (lag threshold 0)', () => {
  const problems = schemaProblems(renderRegion('eu', regionValues('eu', fixture('broken-keda'))));
  assert.deepEqual(problems, ['ScaledObject/waygate-eu-receipt: spec.triggers[0].metadata.lagThreshold must be a positive integer, got 0']);
});

for (const policy of POLICIES) {
  test(`policy "${policy}" refuses its broken fixture, and only that policy fires`, () => {
    const violations = policyViolations(renderRegion('eu', regionValues('eu', fixture(`broken-${policy}`))));
    assert.ok(violations.length > 0, `fixtures/broken-${policy}.yaml should violate ${policy}`);
    assert.deepEqual([...new Set(violations.map((violation) => violation.policy))], [policy], JSON.stringify(violations, null, 1));
  });
}

test("each region's receipt forwards the other region's template and account webhooks (WAYGATE_REGION_WEBHOOK_URLS)", () => {
  for (const [region, other] of [
    ['eu', 'us'],
    ['us', 'eu'],
  ] as const) {
    const receipt = renderRegion(region).find((object) => object.kind === 'Deployment' && object.metadata.name.endsWith('receipt'));
    assert.ok(receipt, `${region}: receipt Deployment`);
    const env = (receipt.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec
      .containers[0].env;
    const urls = JSON.parse(env.find((variable) => variable.name === 'WAYGATE_REGION_WEBHOOK_URLS')?.value ?? '{}') as Record<
      string,
      string
    >;
    assert.deepEqual(Object.keys(urls), [other], `${region} forwards to ${other} only`);
    assert.match(urls[other], /^https:\/\//);
  }
});
