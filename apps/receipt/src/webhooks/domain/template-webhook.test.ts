import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplateChanges } from './template-webhook';

function webhook(...changes: { field: string; value: unknown }[]) {
  return { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', time: 1739321024, changes }] };
}

describe('parseTemplateChanges', () => {
  test('reads the four template fields as Meta sends them, and nothing else', () => {
    const changes = parseTemplateChanges(
      webhook(
        {
          field: 'message_template_status_update',
          value: {
            event: 'PAUSED',
            message_template_id: 806312974732579,
            message_template_name: 'spring_sale',
            message_template_language: 'en_US',
            reason: 'NONE',
          },
        },
        {
          field: 'message_template_quality_update',
          value: {
            previous_quality_score: 'GREEN',
            new_quality_score: 'YELLOW',
            message_template_id: 806312974732579,
            message_template_name: 'spring_sale',
            message_template_language: 'en_US',
          },
        },
        {
          field: 'message_template_components_update',
          value: { message_template_id: 1, message_template_name: 'x', message_template_language: 'de', message_template_element: 'Hi' },
        },
        {
          field: 'template_category_update',
          value: {
            message_template_id: 2,
            message_template_name: 'y',
            message_template_language: 'en',
            previous_category: 'UTILITY',
            new_category: 'MARKETING',
          },
        },
        { field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '1' }, statuses: [] } },
        { field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } },
      ),
    );
    assert.deepEqual(
      changes.map((change) => [change.kind, change.wabaId, change.templateId, change.name, change.language, change.value]),
      [
        ['status', '102290129340398', '806312974732579', 'spring_sale', 'en_US', 'PAUSED'],
        ['quality', '102290129340398', '806312974732579', 'spring_sale', 'en_US', 'YELLOW'],
        ['components', '102290129340398', '1', 'x', 'de', ''],
        ['category', '102290129340398', '2', 'y', 'en', 'MARKETING'],
      ],
    );
    assert.equal(JSON.parse(changes[0]?.rawJson ?? '{}').reason, 'NONE');
  });

  test('the event id is stable for the same change delivered again and differs for another change', () => {
    const paused = {
      field: 'message_template_status_update',
      value: { event: 'PAUSED', message_template_id: 5, message_template_name: 'a' },
    };
    const approved = {
      field: 'message_template_status_update',
      value: { event: 'APPROVED', message_template_id: 5, message_template_name: 'a' },
    };
    const [first] = parseTemplateChanges(webhook(paused));
    const [again] = parseTemplateChanges(webhook(paused));
    const [other] = parseTemplateChanges(webhook(approved));
    assert.match(first?.eventId ?? '', /^wa:tpl:[0-9a-f]{40}$/);
    assert.equal(first?.eventId, again?.eventId);
    assert.notEqual(first?.eventId, other?.eventId);
  });

  test('skips malformed changes and bounds what it keeps', () => {
    const changes = parseTemplateChanges(
      webhook(
        { field: 'message_template_status_update', value: 'not an object' },
        { field: 'message_template_status_update', value: { event: 'PAUSED' } },
        {
          field: 'message_template_status_update',
          value: { event: 'PAUSED', message_template_name: 'n'.repeat(5000), junk: 'x'.repeat(100_000) },
        },
      ),
    );
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.name.length, 512);
    assert.ok((changes[0]?.rawJson.length ?? 0) < 20_000);
    assert.deepEqual(parseTemplateChanges({ object: 'page', entry: [] }), []);
    assert.deepEqual(parseTemplateChanges(null), []);
  });
});
