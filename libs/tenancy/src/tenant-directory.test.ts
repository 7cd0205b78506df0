import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WrongRegionError } from '@waygate/domain';
import { assertHomedIn, hashApiKey } from './tenant-directory';
import { parseTenants } from './load-tenants-file';

const yaml = (secretValue: string) => `
tenants:
  - id: acme
    name: Acme
    homeRegion: eu
    apiKeys: [{ sha256: ${hashApiKey('key-acme')} }]
    whatsapp:
      wabaId: "100"
      appSecret: ${secretValue}
      verifyToken: verify-acme
      phoneNumbers: [{ id: "200", displayPhoneNumber: "+15550001111", accessToken: token-acme }]
  - id: globex
    name: Globex
    homeRegion: us
    apiKeys: [{ sha256: ${hashApiKey('key-globex')} }]
    whatsapp:
      wabaId: "101"
      appSecret: s2
      verifyToken: v2
      phoneNumbers: [{ id: "201", displayPhoneNumber: "+15550002222", accessToken: t2 }]
`;

test('authenticates by API key hash and finds phone numbers', () => {
  const directory = parseTenants(yaml('literal-secret'));
  assert.equal(directory.authenticate('key-acme')?.id, 'acme');
  assert.equal(directory.authenticate('key-unknown'), undefined);
  assert.equal(directory.authenticate(''), undefined);
  assert.equal(directory.findPhoneNumber('201')?.tenant.id, 'globex');
  assert.deepEqual(
    directory.homedIn('eu').map((t) => t.id),
    ['acme'],
  );
});

test('secrets can come from the environment, and a missing one is named', () => {
  const directory = parseTenants(yaml('${ACME_SECRET}'), { ACME_SECRET: 'from-env' });
  assert.equal(directory.get('acme')?.whatsapp.appSecret, 'from-env');
  assert.throws(
    () => parseTenants(yaml('${ACME_SECRET}'), {}),
    /tenants\.0\.whatsapp\.appSecret: environment variable ACME_SECRET is not set/,
  );
});

test('refuses tenants homed elsewhere, naming the home region', () => {
  const directory = parseTenants(yaml('s'));
  const globex = directory.get('globex');
  assert.ok(globex);
  assert.throws(
    () => assertHomedIn(globex, 'eu'),
    (error: unknown) => error instanceof WrongRegionError && error.homeRegion === 'us',
  );
});

test('rejects duplicate API keys across tenants', () => {
  const text = yaml('s').replace(hashApiKey('key-globex'), hashApiKey('key-acme'));
  assert.throws(() => parseTenants(text), /tenants\.1\.apiKeys\.0\.sha256: this API key is also configured for another tenant/);
});
