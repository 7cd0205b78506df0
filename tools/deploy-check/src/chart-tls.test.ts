/**
 * gRPC TLS inside the pods (`tls.*`): both regions render with it on, mount the certificate Secret read-only, point
 * the WAYGATE_TLS_* variables into that mount, probe over plaintext HTTP on the metrics port, and still pass the
 * schema and policy checks; with it off (the default) nothing of it appears and the probes stay native gRPC.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseTlsConfig } from '@waygate/config';
import { createTempDir, createTestCertificates } from '@waygate/testing';
import { policyViolations } from './chart-policy';
import { CHART_DIR, REGIONS, SERVICES, regionValues, renderRegion, runHelm, templateArgs, type K8sObject } from './helm-chart';
import { schemaProblems } from './k8s-schema-validation';
import { mountRenderedTlsSecrets, TLS_VARIABLES } from './rendered-tls';

const TLS_FIXTURE = 'tools/deploy-check/fixtures/tls.yaml';

interface Probe {
  grpc?: { port: number };
  httpGet?: { path: string; port: number | string; scheme?: string };
}
interface Container {
  env: { name: string; value?: string }[];
  ports: { name: string; containerPort: number }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface SecretVolume {
  name: string;
  secret?: { secretName: string; defaultMode?: number; items: { key: string; path: string }[] };
}

function podOf(objects: readonly K8sObject[], name: string) {
  const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name);
  assert.ok(deployment, `Deployment ${name} rendered`);
  const pod = (deployment.spec as { template: { spec: { containers: Container[]; volumes: SecretVolume[] } } }).template.spec;
  const container = pod.containers[0];
  return { pod, container, env: new Map(container.env.map((variable) => [variable.name, variable.value])) };
}

/** Where a probe goes: "grpc:<port>" or "GET <path> on <containerPort>" with a named port resolved. */
function probeTarget(container: Container, probe: Probe | undefined): string {
  assert.ok(probe, 'probe rendered');
  if (probe.grpc) return `grpc:${probe.grpc.port}`;
  assert.ok(probe.httpGet, 'a grpc or httpGet probe');
  const { port } = probe.httpGet;
  const resolved = typeof port === 'number' ? port : container.ports.find((candidate) => candidate.name === port)?.containerPort;
  assert.ok(resolved, `probe port ${port} is a port of the container`);
  return `${probe.httpGet.scheme ?? 'HTTP'} GET ${probe.httpGet.path} on ${resolved}`;
}

for (const region of REGIONS) {
  test(`${region} with tls.enabled: lint, schemas and every policy still pass`, () => {
    const files = regionValues(region, TLS_FIXTURE);
    const lint = runHelm(['lint', '--strict', CHART_DIR, ...files.flatMap((file) => ['-f', file])]);
    assert.ok(lint.ok, `helm lint:\n${lint.stdout}${lint.stderr}`);
    const objects = renderRegion(region, files);
    assert.deepEqual(schemaProblems(objects), []);
    assert.deepEqual(policyViolations(objects), []);
  });

  test(`${region} with tls.enabled: the Secret is mounted read-only, the TLS variables point into it, probes are httpGet on the metrics port`, () => {
    const objects = renderRegion(region, regionValues(region, TLS_FIXTURE));
    for (const service of SERVICES) {
      const { pod, container, env } = podOf(objects, `waygate-${region}-${service}`);
      const volume = pod.volumes.find((candidate) => candidate.name === 'tls');
      assert.equal(volume?.secret?.secretName, 'waygate-grpc-tls', `${service}: the certificate Secret is a volume`);
      const tenantsMode = pod.volumes.find((candidate) => candidate.name === 'tenants')?.secret?.defaultMode;
      assert.equal(volume.secret.defaultMode, tenantsMode, `${service}: readable by the pod's group only, like the tenants file`);
      assert.deepEqual(
        volume.secret.items.map((item) => `${item.key}->${item.path}`),
        ['tls.crt->tls.crt', 'tls.key->tls.key', 'ca.crt->ca.crt'],
      );
      assert.deepEqual(
        container.volumeMounts.filter((mount) => mount.name === 'tls'),
        [{ name: 'tls', mountPath: '/etc/waygate/tls', readOnly: true }],
        `${service}: mounted read-only`,
      );
      assert.equal(env.get('WAYGATE_TLS_CERT_FILE'), '/etc/waygate/tls/tls.crt');
      assert.equal(env.get('WAYGATE_TLS_KEY_FILE'), '/etc/waygate/tls/tls.key');
      assert.equal(env.get('WAYGATE_INTERNAL_TLS_CA_FILE'), '/etc/waygate/tls/ca.crt', `${service}: verifies the services it calls`);
      // tls.clientAuth.services defaults to [ingress]: only ingress asks its clients for a certificate.
      assert.equal(env.get('WAYGATE_TLS_CLIENT_CA_FILE'), service === 'ingress' ? '/etc/waygate/tls/ca.crt' : undefined, service);

      const metricsPort = Number(env.get('WAYGATE_METRICS_PORT'));
      assert.equal(metricsPort, 9464);
      assert.equal(probeTarget(container, container.startupProbe), `HTTP GET /readyz on ${metricsPort}`, `${service} startup`);
      assert.equal(probeTarget(container, container.readinessProbe), `HTTP GET /readyz on ${metricsPort}`, `${service} readiness`);
      assert.equal(probeTarget(container, container.livenessProbe), `HTTP GET /livez on ${metricsPort}`, `${service} liveness`);
    }
  });
}

test('the default render has no TLS and native gRPC probes; tls.enabled=false renders exactly the default', () => {
  for (const region of REGIONS) {
    const defaults = renderRegion(region);
    assert.deepEqual(renderRegion(region, regionValues(region), ['tls.enabled=false', 'tls.secretName=ignored']), defaults);
    for (const service of SERVICES) {
      const { pod, container, env } = podOf(defaults, `waygate-${region}-${service}`);
      for (const variable of TLS_VARIABLES) assert.equal(env.has(variable), false, `${region} ${service}: ${variable} not set`);
      assert.equal(
        pod.volumes.some((volume) => volume.name.startsWith('tls')),
        false,
        `${region} ${service}: no TLS volume`,
      );
      const grpcPort = container.ports.find((port) => port.name === 'grpc')?.containerPort;
      for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
        assert.equal(probeTarget(container, probe), `grpc:${grpcPort}`, `${region} ${service}`);
      }
    }
  }
});

test('the rendered TLS variables are a configuration the services accept (files laid out as the Secret volumes mount them)', (t) => {
  const dir = createTempDir();
  t.after(() => dir.remove());
  const certs = createTestCertificates(dir.path);
  // The Secrets as cert-manager writes them: tls.crt, tls.key, ca.crt.
  const secrets = {
    'waygate-grpc-tls': { 'tls.crt': certs.serverCert, 'tls.key': certs.serverKey, 'ca.crt': certs.caCert },
    'waygate-tenant-client-ca': { 'ca.crt': certs.caCert },
  };
  for (const sets of [[], ['tls.clientAuth.caSecretName=waygate-tenant-client-ca']]) {
    const objects = renderRegion('eu', regionValues('eu', TLS_FIXTURE), sets);
    for (const service of SERVICES) {
      const env = mountRenderedTlsSecrets(
        objects,
        `waygate-eu-${service}`,
        secrets,
        path.join(dir.path, sets.length > 0 ? 'own-ca' : 'shared-ca'),
      );
      const tls = parseTlsConfig(env);
      assert.ok(tls.server, `${service}: serves TLS`);
      assert.ok(tls.client, `${service}: verifies the region's services`);
      assert.equal(tls.server.clientCa !== undefined, service === 'ingress', `${service}: client certificates`);
    }
  }
});

test('tls.clientAuth with its own CA Secret mounts it only where client certificates are required', () => {
  const objects = renderRegion('eu', regionValues('eu', TLS_FIXTURE), [
    'tls.clientAuth.caSecretName=waygate-tenant-client-ca',
    'tls.clientAuth.services={ingress,archive}',
  ]);
  assert.deepEqual(schemaProblems(objects), []);
  for (const service of SERVICES) {
    const { pod, container, env } = podOf(objects, `waygate-eu-${service}`);
    const required = service === 'ingress' || service === 'archive';
    const volume = pod.volumes.find((candidate) => candidate.name === 'tls-client-ca');
    assert.equal(volume?.secret?.secretName, required ? 'waygate-tenant-client-ca' : undefined, service);
    assert.deepEqual(
      container.volumeMounts.filter((mount) => mount.name === 'tls-client-ca'),
      required ? [{ name: 'tls-client-ca', mountPath: '/etc/waygate/tls-client-ca', readOnly: true }] : [],
    );
    assert.equal(env.get('WAYGATE_TLS_CLIENT_CA_FILE'), required ? '/etc/waygate/tls-client-ca/ca.crt' : undefined, service);
    assert.equal(env.get('WAYGATE_INTERNAL_TLS_CA_FILE'), '/etc/waygate/tls/ca.crt', `${service}: internal calls keep the release CA`);
  }
});

for (const [label, sets, message] of [
  ['TLS without a certificate Secret', ['tls.enabled=true'], '.Values.tls.secretName is required when .Values.tls.enabled'],
  [
    'TLS without the metrics port its probes need',
    ['tls.enabled=true', 'tls.secretName=x', 'metrics.enabled=false'],
    '.Values.tls.enabled needs .Values.metrics.enabled',
  ],
  ['client certificates without TLS', ['tls.clientAuth.enabled=true'], '.Values.tls.clientAuth.enabled needs .Values.tls.enabled'],
  [
    'client certificates for a service that does not exist',
    ['tls.enabled=true', 'tls.secretName=x', 'tls.clientAuth.enabled=true', 'tls.clientAuth.services={ingres}'],
    '.Values.tls.clientAuth.services names "ingres"',
  ],
] as const) {
  test(`rendering refuses ${label} with a clear message`, () => {
    const result = runHelm(templateArgs('eu', regionValues('eu'), sets));
    assert.equal(result.ok, false, 'rendering should fail');
    assert.ok(result.stderr.includes(message), `expected '${message}' in:\n${result.stderr}`);
  });
}
