import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { NotFoundError } from '@waygate/domain';
import { DeliveryAdminServiceClient, DeliveryAdminServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir, createTestCertificates, tenantsYaml } from '@waygate/testing';
import { startGrpcServer, unaryHandler } from './grpc-server';
import { rpcScopeTable } from './rpc-scopes';
import { channelCredentials } from './tls-credentials';
import { ConfigError, parseTlsConfig } from '@waygate/config';

test('TLS settings: plaintext by default, files read and checked at start, every bad variable named', (t) => {
  const dir = createTempDir();
  t.after(() => dir.remove());
  const certs = createTestCertificates(dir.path);
  assert.deepEqual(parseTlsConfig({}), {});

  const full = parseTlsConfig({
    WAYGATE_TLS_CERT_FILE: certs.serverCert,
    WAYGATE_TLS_KEY_FILE: certs.serverKey,
    WAYGATE_TLS_CLIENT_CA_FILE: certs.caCert,
    WAYGATE_INTERNAL_TLS_CA_FILE: certs.caCert,
  });
  assert.deepEqual(full.server?.certChain, readFileSync(certs.serverCert));
  assert.deepEqual(full.server?.privateKey(), readFileSync(certs.serverKey));
  assert.deepEqual(full.server?.clientCa, readFileSync(certs.caCert));
  assert.deepEqual(full.client?.ca, readFileSync(certs.caCert));
  assert.deepEqual(full.client?.certChain, readFileSync(certs.serverCert), 'the service presents its own certificate');
  assert.doesNotMatch(JSON.stringify(full), /PRIVATE KEY/, 'the key never prints with the configuration');

  const notPem = path.join(dir.path, 'not.pem');
  writeFileSync(notPem, 'hello');
  const problems = (env: NodeJS.ProcessEnv): string[] => {
    try {
      parseTlsConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return [...error.problems];
    }
    return [];
  };
  assert.deepEqual(problems({ WAYGATE_TLS_CERT_FILE: certs.serverCert }), [
    'WAYGATE_TLS_KEY_FILE: required with WAYGATE_TLS_CERT_FILE (not set)',
  ]);
  assert.deepEqual(problems({ WAYGATE_TLS_CLIENT_CA_FILE: certs.caCert }), [
    'WAYGATE_TLS_CLIENT_CA_FILE: client certificates need a TLS server: set WAYGATE_TLS_CERT_FILE and WAYGATE_TLS_KEY_FILE',
  ]);
  assert.deepEqual(problems({ WAYGATE_TLS_CERT_FILE: certs.serverCert, WAYGATE_TLS_KEY_FILE: certs.clientKey }), [
    'WAYGATE_TLS_KEY_FILE: is not the private key of the certificate in WAYGATE_TLS_CERT_FILE',
  ]);
  assert.deepEqual(
    problems({
      WAYGATE_TLS_CERT_FILE: notPem,
      WAYGATE_TLS_KEY_FILE: path.join(dir.path, 'missing.key'),
      WAYGATE_INTERNAL_TLS_CA_FILE: certs.serverKey,
    }),
    [
      `WAYGATE_TLS_CERT_FILE: ${notPem} holds no PEM certificate`,
      `WAYGATE_TLS_KEY_FILE: cannot read ${path.join(dir.path, 'missing.key')} (ENOENT)`,
      `WAYGATE_INTERNAL_TLS_CA_FILE: ${certs.serverKey} holds no PEM certificate`,
    ],
  );
});

test('a TLS gRPC server with client CA: only clients with a certificate the CA signed get an answer', async (t) => {
  const dir = createTempDir();
  t.after(() => dir.remove());
  const certs = createTestCertificates(dir.path);
  const tls = parseTlsConfig({
    WAYGATE_TLS_CERT_FILE: certs.serverCert,
    WAYGATE_TLS_KEY_FILE: certs.serverKey,
    WAYGATE_TLS_CLIENT_CA_FILE: certs.caCert,
    WAYGATE_INTERNAL_TLS_CA_FILE: certs.caCert,
  });
  const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
  const logger = createLogger({ service: 'tls-test', level: 'silent' });
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    // This test serves the delivery admin API as a tenant service (the server's mechanics, not the API), so it scopes it.
    rpcScopes: rpcScopeTable({ [SERVICE_NAMES.deliveryAdmin]: { GetDelivery: 'messages:read', CancelDelivery: 'messages:send' } }),
    ...(tls.server ? { tls: tls.server } : {}),
    services: [
      {
        name: SERVICE_NAMES.deliveryAdmin,
        protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
        definition: DeliveryAdminServiceService,
        implementation: {
          getDelivery: unaryHandler(tenants, logger, async (request: { messageId: string }) => {
            throw new NotFoundError('delivery', request.messageId);
          }),
          cancelDelivery: unaryHandler(tenants, logger, async () => ({})),
        },
      },
    ],
  });
  t.after(() => server.shutdown(100));

  const answer = (creds: ChannelCredentials) => {
    const client = new DeliveryAdminServiceClient(`127.0.0.1:${server.port}`, creds);
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer key-acme');
    return new Promise<string>((resolve) =>
      client.getDelivery({ messageId: 'm1' }, metadata, { deadline: Date.now() + 3000 }, (error: ServiceError | null) => {
        client.close();
        resolve(error ? status[error.code] : 'OK');
      }),
    );
  };
  const read = (file: string) => readFileSync(file);
  // The service's own client side: the region's CA, its certificate as client certificate.
  assert.equal(await answer(channelCredentials(tls.client)), 'NOT_FOUND');
  assert.equal(await answer(credentials.createSsl(read(certs.caCert), read(certs.clientKey), read(certs.clientCert))), 'NOT_FOUND');
  assert.equal(await answer(credentials.createSsl(read(certs.caCert))), 'UNAVAILABLE', 'no client certificate');
  assert.equal(
    await answer(credentials.createSsl(read(certs.caCert), read(certs.strangerKey), read(certs.strangerCert))),
    'UNAVAILABLE',
    'a certificate the CA did not sign',
  );
  assert.equal(await answer(credentials.createInsecure()), 'UNAVAILABLE', 'plaintext');
  assert.equal(await answer(channelCredentials(undefined)), 'UNAVAILABLE', 'plaintext is what no TLS configuration means');
});
