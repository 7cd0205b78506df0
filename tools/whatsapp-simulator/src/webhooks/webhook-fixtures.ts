import fs from 'node:fs';
import path from 'node:path';

/** The name of a hand-written webhook fixture (`fixtures/webhooks/<name>.json`), each a complete Meta webhook POST body. */
export type WebhookFixtureName =
  | 'status-sent'
  | 'status-delivered'
  | 'status-read'
  | 'status-failed'
  | 'statuses-batched'
  | 'inbound-text'
  | 'inbound-text-reply'
  | 'inbound-image'
  | 'inbound-video'
  | 'inbound-audio'
  | 'inbound-document'
  | 'inbound-sticker'
  | 'inbound-location'
  | 'inbound-contacts'
  | 'inbound-interactive-button-reply'
  | 'inbound-interactive-list-reply'
  | 'inbound-button'
  | 'inbound-reaction'
  | 'inbound-order'
  | 'inbound-system'
  | 'inbound-unsupported'
  | 'value-errors';

/**
 * Every fixture, so tests can run over all of them; the fixtures' own test fails if the folder holds a file that is
 * not listed here, which keeps a new fixture from going untested.
 */
export const WEBHOOK_FIXTURE_NAMES: readonly WebhookFixtureName[] = Object.freeze([
  'status-sent',
  'status-delivered',
  'status-read',
  'status-failed',
  'statuses-batched',
  'inbound-text',
  'inbound-text-reply',
  'inbound-image',
  'inbound-video',
  'inbound-audio',
  'inbound-document',
  'inbound-sticker',
  'inbound-location',
  'inbound-contacts',
  'inbound-interactive-button-reply',
  'inbound-interactive-list-reply',
  'inbound-button',
  'inbound-reaction',
  'inbound-order',
  'inbound-system',
  'inbound-unsupported',
  'value-errors',
]);

// Resolved from this file, not the working directory, so tests can run from anywhere.
const WEBHOOK_FIXTURES_DIR = path.join(__dirname, '../../fixtures/webhooks');

/** The exact bytes of a fixture file, for signature tests. */
export function readWebhookFixtureBytes(name: WebhookFixtureName): Buffer {
  return fs.readFileSync(path.join(WEBHOOK_FIXTURES_DIR, `${name}.json`));
}

/** Parsed JSON of a fixture (a fresh copy each call, so a test may mutate it). */
export function loadWebhookFixture(name: WebhookFixtureName): unknown {
  return JSON.parse(readWebhookFixtureBytes(name).toString('utf8'));
}
