/**
 * Reading a WABA's templates from the simulator's template management endpoint over loopback: every page, what each
 * component expects, the OTP settings; and Meta's answers as they come from the wire (older OTP URL buttons).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seedTemplates, startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { isCloudApiError } from './cloud-api-error';
import { createMessageTemplateReader, parseMessageTemplate, type MessageTemplate } from './message-templates';

const NUMBER = { id: '106540352242922', displayPhoneNumber: '+15550102030', accessToken: 'EAAtoken-main', wabaId: '102290129340398' };

describe('message template reader', () => {
  let simulator: WhatsAppSimulator;
  before(async () => {
    simulator = await startSimulator({ appSecret: 'secret', phoneNumbers: [NUMBER], templates: seedTemplates(NUMBER.wabaId) });
  });
  after(() => simulator.stop());

  test('follows the cursors through every page', async () => {
    const reader = createMessageTemplateReader({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 5000 });
    const templates: MessageTemplate[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await reader.listPage({ wabaId: NUMBER.wabaId, accessToken: NUMBER.accessToken, limit: 3, ...(after ? { after } : {}) });
      templates.push(...page.templates);
      after = page.after;
      pages++;
    } while (after);
    assert.equal(pages, 2);
    assert.deepEqual(
      templates.map((template) => `${template.name}/${template.language}/${template.status}/${template.category}`),
      [
        'order_update/en_US/APPROVED/UTILITY',
        'spring_sale/en_US/APPROVED/MARKETING',
        'login_code/en_US/APPROVED/AUTHENTICATION',
        'login_code_one_tap/en_US/APPROVED/AUTHENTICATION',
      ],
    );
    const [named, marketing, copyCode, oneTap] = templates as [MessageTemplate, MessageTemplate, MessageTemplate, MessageTemplate];
    assert.equal(named.parameterFormat, 'NAMED');
    assert.deepEqual(named.components.find((component) => component.type === 'BODY')?.parameterNames, ['first_name', 'order_id']);
    assert.equal(marketing.parameterFormat, 'POSITIONAL');
    assert.deepEqual(
      marketing.components.map((component) => [component.type, component.headerFormat, component.parameterCount, component.buttonSubType]),
      [
        ['HEADER', 'IMAGE', 1, ''],
        ['BODY', '', 2, ''],
        ['FOOTER', '', 0, ''],
        ['BUTTON', '', 0, 'quick_reply'],
      ],
    );
    assert.deepEqual([copyCode.otpType, copyCode.codeExpirationMinutes, copyCode.messageSendTtlSeconds], ['COPY_CODE', 10, 300]);
    assert.deepEqual([oneTap.otpType, oneTap.codeExpirationMinutes, oneTap.messageSendTtlSeconds], ['ONE_TAP', 5, 0]);
    const otpButton = copyCode.components.find((component) => component.type === 'BUTTON');
    assert.deepEqual([otpButton?.buttonType, otpButton?.buttonSubType, otpButton?.parameterCount], ['OTP', 'url', 1]);
  });

  test("a refused token is Meta's error", async () => {
    const reader = createMessageTemplateReader({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 5000 });
    const error = await reader.listPage({ wabaId: NUMBER.wabaId, accessToken: 'wrong' }).catch((caught: unknown) => caught);
    assert.ok(isCloudApiError(error));
    assert.equal(error.kind, 'meta-error');
    assert.equal(error.code, 190);
  });
});

describe('parseMessageTemplate', () => {
  test('reads an older authentication answer whose code button is a whatsapp.com/otp URL', () => {
    const template = parseMessageTemplate({
      id: '123',
      name: 'otp',
      language: 'en',
      status: 'APPROVED',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', text: '*{{1}}* is your verification code.' },
        { type: 'FOOTER', text: 'This code expires in 15 minutes.', code_expiration_minutes: 15 },
        {
          type: 'BUTTONS',
          buttons: [
            {
              type: 'URL',
              text: 'Copy code',
              url: 'https://www.whatsapp.com/otp/code/?otp_type=ONE_TAP&cta_display_name=Autofill&code=otp{{1}}',
            },
          ],
        },
      ],
    });
    assert.equal(template?.otpType, 'ONE_TAP');
    assert.equal(template?.codeExpirationMinutes, 15);
    const button = template?.components.find((component) => component.type === 'BUTTON');
    assert.deepEqual([button?.buttonType, button?.buttonSubType, button?.parameterCount], ['OTP', 'url', 1]);
  });

  test('keeps an unknown status and category raw, and refuses a template without an id', () => {
    const template = parseMessageTemplate({
      id: 7,
      name: 'x',
      language: 'de',
      status: 'FLAGGED',
      category: 'SOMETHING_NEW',
      components: [],
    });
    assert.deepEqual([template?.id, template?.status, template?.category], ['7', 'FLAGGED', 'SOMETHING_NEW']);
    assert.equal(parseMessageTemplate({ name: 'x', language: 'de' }), undefined);
  });
});
