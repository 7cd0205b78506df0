import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WEBHOOK_FIXTURE_NAMES, loadWebhookFixture, readWebhookFixtureBytes } from './webhook-fixtures';

const FIXTURES_DIR = path.join(__dirname, '../../fixtures/webhooks');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

test('every listed fixture loads and is a whatsapp_business_account webhook with messages changes', () => {
  for (const name of WEBHOOK_FIXTURE_NAMES) {
    const body = loadWebhookFixture(name);
    assert.ok(isRecord(body), name);
    assert.equal(body.object, 'whatsapp_business_account', name);
    assert.ok(Array.isArray(body.entry) && body.entry.length > 0, `${name}: entry[]`);
    for (const entry of body.entry) {
      assert.ok(isRecord(entry) && typeof entry.id === 'string', `${name}: entry.id`);
      assert.ok(Array.isArray(entry.changes) && entry.changes.length > 0, `${name}: changes[]`);
      for (const change of entry.changes) {
        assert.ok(isRecord(change) && change.field === 'messages' && isRecord(change.value), `${name}: change`);
        assert.equal(change.value.messaging_product, 'whatsapp', name);
        assert.ok(isRecord(change.value.metadata) && typeof change.value.metadata.phone_number_id === 'string', `${name}: metadata`);
      }
    }
  }
});

test('the folder holds exactly the listed fixtures, each named once', () => {
  const files = fs
    .readdirSync(FIXTURES_DIR)
    .filter((file) => file !== 'README.md')
    .sort();
  assert.deepEqual(files, [...WEBHOOK_FIXTURE_NAMES].map((name) => `${name}.json`).sort());
  assert.equal(new Set(WEBHOOK_FIXTURE_NAMES).size, WEBHOOK_FIXTURE_NAMES.length);
});

test('the README names every fixture', () => {
  const readme = fs.readFileSync(path.join(FIXTURES_DIR, 'README.md'), 'utf8');
  for (const name of WEBHOOK_FIXTURE_NAMES) assert.ok(readme.includes(`\`${name}.json\``), name);
});

test('fixture bytes are the file as stored, and each load is a fresh copy', () => {
  assert.deepEqual(readWebhookFixtureBytes('status-sent'), fs.readFileSync(path.join(FIXTURES_DIR, 'status-sent.json')));
  const first = loadWebhookFixture('inbound-text');
  assert.ok(isRecord(first));
  first.object = 'changed';
  assert.deepEqual(loadWebhookFixture('inbound-text'), JSON.parse(readWebhookFixtureBytes('inbound-text').toString('utf8')));
});
