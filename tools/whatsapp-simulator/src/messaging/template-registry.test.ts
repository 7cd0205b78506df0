import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetaApiError } from '../cloud-api/meta-errors';
import type { TemplateSendRequest } from '../cloud-api/send-request-validation';
import { SimulatorInputError } from '../simulator-input-error';
import type { SimulatorTemplate } from '../types';
import { parseSimulatorTemplates, TemplateRegistry } from './template-registry';

const WABA = '102290129340398';

const orderUpdate: SimulatorTemplate = { wabaId: WABA, name: 'order_update', language: 'en_US', category: 'UTILITY', bodyParameters: 2 };
const orderUpdateGerman: SimulatorTemplate = { ...orderUpdate, language: 'de' };
const namedShipping: SimulatorTemplate = {
  wabaId: WABA,
  name: 'shipping_named',
  language: 'en_US',
  category: 'UTILITY',
  parameterFormat: 'NAMED',
  header: { format: 'TEXT', parameters: ['first_name'] },
  bodyParameters: ['order_id', 'delivery_date'],
};
const imagePromo: SimulatorTemplate = {
  wabaId: WABA,
  name: 'spring_sale',
  language: 'en_US',
  category: 'MARKETING',
  header: { format: 'IMAGE' },
  bodyParameters: 1,
  buttons: [{ type: 'QUICK_REPLY' }, { type: 'URL', dynamic: true }],
};
const textHeader: SimulatorTemplate = {
  wabaId: WABA,
  name: 'greeting',
  language: 'en',
  category: 'UTILITY',
  header: { format: 'TEXT', parameters: 1 },
};
const otp: SimulatorTemplate = {
  wabaId: WABA,
  name: 'login_code',
  language: 'en_US',
  category: 'AUTHENTICATION',
  bodyParameters: 1,
  buttons: [{ type: 'OTP' }],
};
const otherWaba: SimulatorTemplate = { ...orderUpdate, wabaId: '999' };

const registry = new TemplateRegistry([orderUpdate, orderUpdateGerman, namedShipping, imagePromo, textHeader, otp, otherWaba]);

function sent(overrides: Partial<TemplateSendRequest> = {}): TemplateSendRequest {
  return { name: 'order_update', languageCode: 'en_US', body: { parameterCount: 2, parameterNames: [] }, buttons: [], ...overrides };
}

function errorOf(request: TemplateSendRequest, wabaId = WABA): MetaApiError {
  const result = registry.check(wabaId, request);
  if (result.ok) assert.fail('expected the template check to fail');
  return result.error;
}

function assertFound(request: TemplateSendRequest, expected: SimulatorTemplate, wabaId = WABA): void {
  const result = registry.check(wabaId, request);
  if (!result.ok) assert.fail(`expected ${request.name} to pass, got ${result.error.code}: ${result.error.details}`);
  assert.equal(result.template, expected);
}

describe('TemplateRegistry.check: lookup', () => {
  it('finds a template by WABA, name and language', () => {
    assertFound(sent(), orderUpdate);
    assertFound(sent({ languageCode: 'de' }), orderUpdateGerman);
    assertFound(sent(), otherWaba, '999');
  });

  it('answers 132001 (404) for an unknown name', () => {
    const error = errorOf(sent({ name: 'no_such_template' }));
    assert.deepEqual(
      { httpStatus: error.httpStatus, code: error.code, details: error.details },
      { httpStatus: 404, code: 132001, details: 'template name (no_such_template) does not exist in en_US' },
    );
  });

  it('answers 132001 for a known name in another language', () => {
    const error = errorOf(sent({ languageCode: 'fr' }));
    assert.equal(error.code, 132001);
    assert.equal(error.details, 'template name (order_update) does not exist in fr');
  });

  it('does not find another WABA’s template', () => {
    assert.equal(errorOf(sent({ name: 'spring_sale' }), '999').code, 132001);
  });
});

describe('TemplateRegistry.check: body parameters', () => {
  it("answers a count mismatch with Meta's 132000 wording", () => {
    const error = errorOf(sent({ body: { parameterCount: 1, parameterNames: [] } }));
    assert.equal(error.code, 132000);
    assert.equal(error.details, 'body: number of localizable_params (1) does not match the expected number of params (2)');
  });

  it('answers named parameters for a positional template with 132012', () => {
    const error = errorOf(sent({ body: { parameterCount: 2, parameterNames: ['a', 'b'] } }));
    assert.equal(error.code, 132012);
    assert.match(error.details ?? '', /^body: named parameters/);
  });

  it('answers positional parameters for a named template the way Meta does (#100)', () => {
    const error = errorOf({
      name: 'shipping_named',
      languageCode: 'en_US',
      header: { kind: 'text', parameterCount: 1, parameterNames: ['first_name'] },
      body: { parameterCount: 2, parameterNames: [] },
      buttons: [],
    });
    assert.deepEqual({ code: error.code, details: error.details }, { code: 100, details: 'Parameter name is missing or empty' });
  });

  it('needs exactly the named parameters of the template, in any order', () => {
    const named = (header: string[], body: string[]): TemplateSendRequest => ({
      name: 'shipping_named',
      languageCode: 'en_US',
      header: { kind: 'text', parameterCount: header.length, parameterNames: header },
      body: { parameterCount: body.length, parameterNames: body },
      buttons: [],
    });
    assertFound(named(['first_name'], ['delivery_date', 'order_id']), namedShipping);
    const wrongName = errorOf(named(['first_name'], ['order_id', 'delivery_day']));
    assert.equal(wrongName.code, 132000);
    assert.equal(wrongName.details, 'body: parameter names do not match the template (missing delivery_date; unexpected delivery_day)');
    const repeated = errorOf(named(['first_name'], ['order_id', 'order_id']));
    assert.equal(repeated.details, 'body: parameter names do not match the template (missing delivery_date; repeated order_id)');
    const tooFew = errorOf(named(['first_name'], ['order_id']));
    assert.equal(tooFew.details, 'body: number of localizable_params (1) does not match the expected number of params (2)');
    const headerName = errorOf(named(['name'], ['order_id', 'delivery_date']));
    assert.equal(headerName.details, 'header: parameter names do not match the template (missing first_name; unexpected name)');
  });
});

describe('TemplateRegistry.check: header', () => {
  const greeting = (header?: TemplateSendRequest['header']): TemplateSendRequest => ({
    name: 'greeting',
    languageCode: 'en',
    ...(header === undefined ? {} : { header }),
    body: { parameterCount: 0, parameterNames: [] },
    buttons: [],
  });

  it('needs the parameters of a TEXT header', () => {
    assertFound(greeting({ kind: 'text', parameterCount: 1, parameterNames: [] }), textHeader);
    const missing = errorOf(greeting());
    assert.equal(missing.code, 132000);
    assert.equal(missing.details, 'header: number of localizable_params (0) does not match the expected number of params (1)');
    assert.equal(
      errorOf(greeting({ kind: 'image', media: { type: 'image', id: '1' } })).details,
      'header: Format mismatch, expected TEXT, received IMAGE',
    );
  });

  it('rejects header parameters for a template without header parameters', () => {
    const error = errorOf(sent({ header: { kind: 'text', parameterCount: 1, parameterNames: [] } }));
    assert.equal(error.details, 'header: number of localizable_params (1) does not match the expected number of params (0)');
  });

  it("needs the media of a media header, with Meta's 132012 wording", () => {
    const promo = (header?: TemplateSendRequest['header']): TemplateSendRequest => ({
      name: 'spring_sale',
      languageCode: 'en_US',
      ...(header === undefined ? {} : { header }),
      body: { parameterCount: 1, parameterNames: [] },
      buttons: [{ subType: 'url', index: 1, parameterCount: 1 }],
    });
    assertFound(promo({ kind: 'image', media: { type: 'image', link: 'https://example.com/a.png' } }), imagePromo);
    const missing = errorOf(promo());
    assert.deepEqual(
      { code: missing.code, details: missing.details },
      { code: 132012, details: 'header: Format mismatch, expected IMAGE, received UNKNOWN' },
    );
    assert.equal(
      errorOf(promo({ kind: 'video', media: { type: 'video', id: '1' } })).details,
      'header: Format mismatch, expected IMAGE, received VIDEO',
    );
    assert.equal(
      errorOf(promo({ kind: 'text', parameterCount: 0, parameterNames: [] })).details,
      'header: Format mismatch, expected IMAGE, received UNKNOWN',
    );
  });
});

describe('TemplateRegistry.check: buttons', () => {
  const promo = (buttons: TemplateSendRequest['buttons']): TemplateSendRequest => ({
    name: 'spring_sale',
    languageCode: 'en_US',
    header: { kind: 'image', media: { type: 'image', id: '1' } },
    body: { parameterCount: 1, parameterNames: [] },
    buttons,
  });

  it('needs the one parameter of a dynamic URL button at its index', () => {
    assertFound(promo([{ subType: 'url', index: 1, parameterCount: 1 }]), imagePromo);
    assertFound(
      promo([
        { subType: 'quick_reply', index: 0, parameterCount: 1 },
        { subType: 'url', index: 1, parameterCount: 1 },
      ]),
      imagePromo,
    );
    const missing = errorOf(promo([]));
    assert.deepEqual(
      { code: missing.code, details: missing.details },
      { code: 131008, details: 'buttons: Button at index 1 of type Url requires a parameter' },
    );
    assert.equal(errorOf(promo([{ subType: 'url', index: 1, parameterCount: 0 }])).code, 131008);
    assert.equal(errorOf(promo([{ subType: 'url', index: 1, parameterCount: 2 }])).code, 132000);
  });

  it('rejects buttons the template does not have at that index or of that kind', () => {
    const wrongKind = errorOf(
      promo([
        { subType: 'url', index: 0, parameterCount: 1 },
        { subType: 'url', index: 1, parameterCount: 1 },
      ]),
    );
    assert.equal(wrongKind.code, 131009);
    assert.match(wrongKind.details ?? '', /index 0 is a QUICK_REPLY button/);
    assert.equal(
      errorOf(
        promo([
          { subType: 'url', index: 1, parameterCount: 1 },
          { subType: 'quick_reply', index: 5, parameterCount: 0 },
        ]),
      ).code,
      131009,
    );
  });

  it('needs the code of an authentication template as a url button parameter', () => {
    const code = (buttons: TemplateSendRequest['buttons']): TemplateSendRequest => ({
      name: 'login_code',
      languageCode: 'en_US',
      body: { parameterCount: 1, parameterNames: [] },
      buttons,
    });
    assertFound(code([{ subType: 'url', index: 0, parameterCount: 1 }]), otp);
    assert.equal(errorOf(code([])).details, 'buttons: Button at index 0 of type Url requires a parameter');
  });
});

describe('TemplateRegistry.list', () => {
  it('lists every template or one WABA’s, in configuration order', () => {
    assert.equal(registry.list().length, 7);
    assert.deepEqual(registry.list('999'), [otherWaba]);
    assert.deepEqual(registry.list('nope'), []);
  });

  it('refuses duplicate (wabaId, name, language)', () => {
    assert.throws(() => new TemplateRegistry([orderUpdate, { ...orderUpdate }]), SimulatorInputError);
  });
});

describe('parseSimulatorTemplates', () => {
  it('accepts valid templates', () => {
    assert.deepEqual(parseSimulatorTemplates([orderUpdate, namedShipping, imagePromo]), [orderUpdate, namedShipping, imagePromo]);
    assert.deepEqual(parseSimulatorTemplates([]), []);
  });

  it('names the bad field', () => {
    const bad = (template: unknown, pattern: RegExp) => {
      assert.throws(
        () => parseSimulatorTemplates([orderUpdate, orderUpdateGerman, template]),
        (error: unknown) => error instanceof SimulatorInputError && pattern.test(error.message),
      );
    };
    bad({ ...orderUpdate, language: 'fr', category: 'PROMO' }, /templates\[2\]\.category/);
    bad({ ...orderUpdate, language: 'fr', name: 'Order Update' }, /templates\[2\]\.name/);
    bad({ ...orderUpdate, language: 'English' }, /templates\[2\]\.language/);
    bad({ ...orderUpdate, language: 'fr', header: { format: 'GIF' } }, /templates\[2\]\.header\.format/);
    bad({ ...orderUpdate, language: 'fr', bodyParams: 2 }, /templates\[2\]: .*bodyParams/);
    bad({ ...orderUpdate, language: 'fr', buttons: [{ type: 'QUICK_REPLY', dynamic: true }] }, /templates\[2\]\.buttons\[0\]\.dynamic/);
    bad({ ...namedShipping, language: 'fr', bodyParameters: 2 }, /templates\[2\]\.bodyParameters: must list the parameter names/);
    bad({ ...orderUpdate, language: 'fr', bodyParameters: ['a'] }, /templates\[2\]\.bodyParameters: must be a count/);
    bad(
      { ...orderUpdate, language: 'fr', header: { format: 'IMAGE', parameters: 1 } },
      /templates\[2\]\.header\.parameters: only a TEXT header/,
    );
    bad({ ...orderUpdate, language: 'fr', header: { format: 'TEXT', parameters: 2 } }, /at most one parameter/);
    bad({ ...orderUpdate, wabaId: undefined }, /templates\[2\]\.wabaId/);
  });

  it('refuses a duplicate (wabaId, name, language)', () => {
    assert.throws(
      () => parseSimulatorTemplates([orderUpdate, orderUpdateGerman, { ...orderUpdate }]),
      /templates\[2\] repeats wabaId '102290129340398', name 'order_update' and language 'en_US'/,
    );
  });

  it('needs an array', () => {
    assert.throws(() => parseSimulatorTemplates({ templates: [] }), SimulatorInputError);
  });
});
