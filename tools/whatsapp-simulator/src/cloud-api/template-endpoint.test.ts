/**
 * The template management endpoint and template status changes, over loopback: Meta's list shape with paging, the
 * control API's status change with its signed `message_template_status_update` webhook, and a send of a template that
 * is no longer APPROVED refused as Meta refuses it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@waygate/testing';
import { startSimulator } from '../simulator';
import { seedTemplates } from '../messaging/template-rendering';
import { computeWebhookSignature } from '../webhooks/webhook-signature';
import { control, postMessage, startWebhookReceiver, TEST_APP_SECRET, TEST_PHONE, type WebhookReceiver } from '../test-helpers';
import type { WhatsAppSimulator } from '../types';

interface TemplateList {
  data: Record<string, unknown>[];
  paging: { cursors: { before: string; after: string }; next?: string };
  error?: { code: number };
}

async function listTemplates(
  simulator: WhatsAppSimulator,
  query: string,
  token = TEST_PHONE.accessToken,
): Promise<{ status: number; json: TemplateList }> {
  const response = await fetch(`${simulator.url}/v23.0/${TEST_PHONE.wabaId}/message_templates${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, json: (await response.json()) as TemplateList };
}

describe('template management endpoint', () => {
  let simulator: WhatsAppSimulator;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
    simulator = await startSimulator({
      appSecret: TEST_APP_SECRET,
      phoneNumbers: [TEST_PHONE],
      templates: seedTemplates(TEST_PHONE.wabaId),
      webhookUrl: receiver.url,
      enforceCustomerServiceWindow: false,
    });
  });
  after(async () => {
    await simulator.stop();
    await receiver.close();
  });

  test('lists the WABA templates in pages, with cursors and next only while more follow', async () => {
    const first = await listTemplates(simulator, '?limit=3');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.json.data.map((template) => template.name),
      ['order_update', 'spring_sale', 'login_code'],
    );
    assert.ok(first.json.paging.next, 'a next page is announced');
    const second = await listTemplates(simulator, `?limit=3&after=${first.json.paging.cursors.after}`);
    assert.deepEqual(
      second.json.data.map((template) => template.name),
      ['login_code_one_tap'],
    );
    assert.equal(second.json.paging.next, undefined, 'the last page has no next');
    const named = first.json.data[0] as Record<string, unknown>;
    assert.equal(named.parameter_format, 'NAMED');
    assert.equal(named.status, 'APPROVED');
    assert.equal(named.category, 'UTILITY');
    assert.match(String(named.id), /^\d{15}$/);
    assert.match(JSON.stringify(named.components), /\{\{first_name\}\}/);
    const auth = first.json.data[2] as { components: Record<string, unknown>[]; message_send_ttl_seconds?: number };
    assert.equal(auth.message_send_ttl_seconds, 300);
    assert.deepEqual(auth.components.find((component) => component.type === 'FOOTER')?.code_expiration_minutes, 10);
    assert.match(JSON.stringify(auth.components), /"otp_type":"COPY_CODE"/);
  });

  test('refuses an unknown token, another WABA and a bad cursor as Graph API does', async () => {
    assert.equal((await listTemplates(simulator, '', 'wrong-token')).status, 401);
    const other = await fetch(`${simulator.url}/v23.0/999/message_templates`, {
      headers: { authorization: `Bearer ${TEST_PHONE.accessToken}` },
    });
    assert.equal(other.status, 400);
    assert.equal((await listTemplates(simulator, '?after=garbage')).json.error?.code, 100);
  });

  test('a status change is listed, refuses sends (132015) and is announced by a signed webhook', async () => {
    const changed = await control(simulator.url, 'POST', '/_simulator/templates/status', {
      name: 'spring_sale',
      language: 'en_US',
      status: 'PAUSED',
    });
    assert.equal(changed.status, 200);
    const listed = await listTemplates(simulator, '');
    assert.equal(listed.json.data.find((template) => template.name === 'spring_sale')?.status, 'PAUSED');

    const sent = await postMessage(simulator.url, {
      messaging_product: 'whatsapp',
      to: '4915112345678',
      type: 'template',
      template: {
        name: 'spring_sale',
        language: { code: 'en_US' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { link: 'https://example.com/a.jpg' } }] },
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ],
      },
    });
    assert.equal(sent.json.error?.code, 132015);

    const delivery = await waitFor(() => receiver.requests.find((request) => request.rawBody.includes('message_template_status_update')), {
      what: 'the status webhook',
    });
    assert.equal(delivery.headers['x-hub-signature-256'], computeWebhookSignature(TEST_APP_SECRET, delivery.rawBody.toString('utf8')));
    const body = JSON.parse(delivery.rawBody.toString('utf8')) as {
      entry: { id: string; changes: { field: string; value: Record<string, unknown> }[] }[];
    };
    const change = body.entry[0]?.changes[0];
    assert.equal(body.entry[0]?.id, TEST_PHONE.wabaId);
    assert.equal(change?.field, 'message_template_status_update');
    assert.equal(change?.value.event, 'PAUSED');
    assert.equal(change?.value.message_template_name, 'spring_sale');
    assert.equal(String(change?.value.message_template_id), (changed.json as { templateId?: string }).templateId);
  });

  test('an unknown template or status is refused by the control API', async () => {
    assert.equal(
      (await control(simulator.url, 'POST', '/_simulator/templates/status', { name: 'nope', language: 'en_US', status: 'PAUSED' })).status,
      400,
    );
    assert.equal(
      (await control(simulator.url, 'POST', '/_simulator/templates/status', { name: 'order_update', language: 'en_US', status: 'paused!' }))
        .status,
      400,
    );
  });
});
