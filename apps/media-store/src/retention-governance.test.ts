import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { credentials, status } from '@grpc/grpc-js';
import type { Clock } from '@waygate/domain';
import { connectJetStream, LegalHoldMirror, type JetStreamConnection } from '@waygate/nats';
import { MediaServiceClient, type MediaInfo, type PutMediaResponse } from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { RetentionPolicyError } from '@waygate/tenancy';
import {
  bearerMetadata,
  callUnary,
  createTempDir,
  startNatsServer,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type TestTenant,
} from '@waygate/testing';
import { loadMediaStoreConfig, type MediaStoreConfig } from './config';
import { startMediaStore } from './server';
import { sampleOf } from './testing/media-samples';

// Issue 14 in media-store: the media retention floor of a compliance-mode tenant (persisted here, refused at start and
// on reload), and the legal holds the archive mirrors into JetStream KV, which suspend the retention sweeper.
const DAY_MS = 24 * 3_600_000;
let now = Date.parse('2026-03-01T00:00:00Z');
const clock: Clock = { now: () => new Date(now) };
const acme = (governance: object): TestTenant => ({
  id: 'acme',
  homeRegion: 'eu',
  apiKey: 'key-acme-media-gov',
  phoneNumberIds: ['200'],
  governance,
});

let nats: NatsServerHandle;
let publisher: JetStreamConnection;
const dir = createTempDir('waygate-media-governance-');
const tenantsFile = path.join(dir.path, 'tenants.yaml');
let config: MediaStoreConfig;
const lines: string[] = [];
const logger = createLogger({
  service: 'media-store',
  level: 'debug',
  destination: new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }),
});

before(async () => {
  nats = await startNatsServer();
  publisher = await connectJetStream(nats.url, 'media-governance-test');
  writeFileSync(tenantsFile, tenantsYaml([acme({ mode: 'compliance', mediaRetentionDays: 2 })]));
  config = loadMediaStoreConfig({
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
    WAYGATE_NATS_URL: nats.url,
  });
});

after(async () => {
  await publisher?.nc.close();
  await nats?.stop();
  dir.remove();
});

async function put(client: MediaServiceClient): Promise<PutMediaResponse> {
  const request = { content: sampleOf('image/jpeg', 2_000), mimeType: 'image/jpeg', filename: '', customer: '+4915112345678' };
  return callUnary(client, 'putMedia', request, bearerMetadata('key-acme-media-gov'));
}

test('an active legal hold (mirrored by the archive) suspends media retention; its release lets the next sweep run', async () => {
  const service = await startMediaStore(config, logger, { clock });
  const client = new MediaServiceClient(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
  try {
    const stored = await put(client);
    const mirror = await LegalHoldMirror.open(publisher.js, 'eu');
    await mirror.publish('acme', { active: 1, tenantWide: false });
    now += 2 * DAY_MS + 1;
    assert.equal(await service.sweep(), 0, 'held: kept past its retention');
    const info = await callUnary<MediaServiceClient, MediaInfo>(
      client,
      'getMediaInfo',
      { mediaId: stored.mediaId },
      bearerMetadata('key-acme-media-gov'),
    );
    assert.equal(info.mediaId, stored.mediaId);
    await mirror.publish('acme', { active: 0, tenantWide: false });
    assert.equal(await service.sweep(), 1, 'released: disposed of');
    await assert.rejects(
      callUnary(client, 'getMediaInfo', { mediaId: stored.mediaId }, bearerMetadata('key-acme-media-gov')),
      (error: { code?: number }) => error.code === status.NOT_FOUND,
    );
  } finally {
    client.close();
    await service.stop();
  }
});

test('compliance mode: a shorter media retention is refused at start and on reload', async () => {
  writeFileSync(tenantsFile, tenantsYaml([acme({ mode: 'compliance', mediaRetentionDays: 1 })]));
  await assert.rejects(startMediaStore(config, logger, { clock }), (error: unknown) => {
    assert.ok(error instanceof RetentionPolicyError, String(error));
    assert.match(error.message, /tenant "acme", governance\.mediaRetentionDays: 1 days is shorter than the 2 days/);
    return true;
  });
  writeFileSync(tenantsFile, tenantsYaml([acme({ mode: 'compliance', mediaRetentionDays: 3 })]));
  const service = await startMediaStore(config, logger, { clock });
  try {
    const before = lines.length;
    writeFileSync(tenantsFile, tenantsYaml([acme({ mode: 'operational', mediaRetentionDays: 3 })]));
    const refused = await waitFor(() => lines.slice(before).find((line) => line.includes('tenants file refused')), { what: 'the refusal' });
    assert.match(refused, /tenant \\"acme\\", governance\.mode: the tenant is in compliance mode/);
  } finally {
    await service.stop();
  }
});
