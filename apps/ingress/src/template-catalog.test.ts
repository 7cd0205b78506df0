/**
 * The template catalog at the domain level, with a real SQLite file and the WhatsApp simulator over loopback: the
 * sync reads every page of the WABA's templates; a webhook update applies at once; the template-catalog send policy
 * refuses an unknown template (NOT_FOUND), one that is not APPROVED (FAILED_PRECONDITION TEMPLATE_NOT_APPROVED) and
 * every parameter problem (INVALID_ARGUMENT, one violation per problem), and adds the category and default validity.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  systemClock,
  type TemplateComponent,
  type TemplateParameterValue,
} from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { seedTemplates, startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { createCloudApiTemplateSource } from './adapters/cloud-api-template-source';
import { SqliteTemplateCatalogStore } from './adapters/sqlite-template-catalog-store';
import type { SendFacts, SendPolicy } from './domain/send-policy';
import type { ValidSendRequest } from './domain/send-request';
import { createTemplateCatalogPolicy } from './domain/template-catalog-policy';
import { createTemplateSync, type TemplateSync } from './domain/template-sync';

const WABA = '102290129340398';
const NUMBER = { id: '106540352242922', displayPhoneNumber: '+15550102030', accessToken: 'EAAtoken-acme', wabaId: WABA };
const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', wabaId: WABA, phoneNumberIds: [NUMBER.id], accessToken: NUMBER.accessToken },
  ]),
);
const tenant = tenants.get('acme') as Tenant;

let simulator: WhatsAppSimulator;
let dir: ReturnType<typeof createTempDir>;
let store: SqliteTemplateCatalogStore;
let sync: TemplateSync;
const syncs: { count: number }[] = [];

before(async () => {
  simulator = await startSimulator({ appSecret: 'secret', phoneNumbers: [NUMBER], templates: seedTemplates(WABA) });
  dir = createTempDir('waygate-templates-');
  store = new SqliteTemplateCatalogStore(path.join(dir.path, 'ingress-templates.sqlite'));
  sync = createTemplateSync({
    store,
    // Three templates per page: the seeded four take two pages.
    source: createCloudApiTemplateSource({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 5000, pageLimit: 3 }),
    accounts: () => [{ tenantId: 'acme', wabaId: WABA, accessToken: () => NUMBER.accessToken }],
    clock: systemClock,
    events: { synced: (_account, count) => syncs.push({ count }), syncFailed: () => undefined },
  });
  policy = createTemplateCatalogPolicy(store, sync.hasSynced);
  await sync.syncAll();
});

after(async () => {
  await sync.stop();
  await store.close();
  await simulator.stop();
  dir.remove();
});

const text = (value: string, parameterName = ''): { parameterName: string; value: TemplateParameterValue } => ({
  parameterName,
  value: { type: 'text', text: value },
});
const IMAGE = {
  parameterName: '',
  value: { type: 'image' as const, media: { source: { link: 'https://example.com/a.jpg' }, caption: '', filename: '', voice: false } },
};

function request(name: string, components: TemplateComponent[], language = 'en_US'): ValidSendRequest {
  return {
    to: '+4915112345678',
    content: { kind: 'template', name, language, components },
    idempotencyKey: 'key',
    validitySeconds: 30 * 24 * 3600,
    validityExplicit: false,
    phoneNumberId: NUMBER.id,
    replyTo: '',
    requestHash: 'hash',
  };
}

let policy: SendPolicy;

async function check(sent: ValidSendRequest): Promise<Partial<SendFacts> | void> {
  return policy.check({ tenant, request: sent, now: new Date(), facts: {} });
}

/** The violations of an INVALID_ARGUMENT refusal, as `field REASON`. */
async function violations(sent: ValidSendRequest): Promise<string[]> {
  const error = await Promise.resolve(check(sent)).then(
    () => assert.fail('expected a refusal'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof InvalidArgumentError, String(error));
  return error.violations.map((violation) => `${violation.field} ${violation.reason}`);
}

const body = (...parameters: ReturnType<typeof text>[]): TemplateComponent => ({ type: 'body', subType: '', index: 0, parameters });
const button = (subType: string, index: number, ...parameters: TemplateComponent['parameters']): TemplateComponent => ({
  type: 'button',
  subType,
  index,
  parameters,
});
const header = (...parameters: TemplateComponent['parameters']): TemplateComponent => ({
  type: 'header',
  subType: '',
  index: 0,
  parameters,
});

describe('template sync', () => {
  test('reads every page of the WABA and stores what each template expects', async () => {
    const listed = await store.list('acme', { limit: 10 });
    assert.deepEqual(
      listed.map((template) => `${template.name}:${template.rawStatus}:${template.rawCategory}`),
      [
        'login_code:APPROVED:AUTHENTICATION',
        'login_code_one_tap:APPROVED:AUTHENTICATION',
        'order_update:APPROVED:UTILITY',
        'spring_sale:APPROVED:MARKETING',
      ],
    );
    assert.deepEqual(syncs.at(-1), { count: 4 });
    const named = await store.find('acme', WABA, 'order_update', 'en_US');
    assert.deepEqual(named?.components.find((component) => component.type === 'BODY')?.parameterNames, ['first_name', 'order_id']);
  });

  test('a status webhook applies at once, and the re-sync that follows reads Meta again', async () => {
    simulator.setTemplateStatus({ name: 'order_update', language: 'en_US', status: 'PAUSED' });
    const applied = await sync.applyUpdate({
      eventId: 'e1',
      wabaId: WABA,
      kind: 'status',
      templateId: '',
      name: 'order_update',
      language: 'en_US',
      value: 'PAUSED',
      receivedAt: new Date(),
    });
    assert.equal(applied, 1);
    assert.equal((await store.find('acme', WABA, 'order_update', 'en_US'))?.rawStatus, 'PAUSED');
    await sync.idle();
    simulator.setTemplateStatus({ name: 'order_update', language: 'en_US', status: 'APPROVED' });
    await sync.syncWaba(WABA);
    assert.equal((await store.find('acme', WABA, 'order_update', 'en_US'))?.rawStatus, 'APPROVED');
  });
});

describe('template-catalog policy', () => {
  test('an unknown template or language is NOT_FOUND', async () => {
    await assert.rejects(check(request('no_such_template', [])) as Promise<unknown>, NotFoundError);
    await assert.rejects(check(request('order_update', [], 'de')) as Promise<unknown>, NotFoundError);
  });

  test('until the catalog has been read from Meta since start, an unknown template is UNAVAILABLE (retry), not NOT_FOUND', async () => {
    // A process that just started: the catalog on disk is from before, this process has not read Meta yet.
    const fresh = createTemplateSync({
      store,
      source: createCloudApiTemplateSource({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 5000 }),
      accounts: () => [{ tenantId: 'acme', wabaId: WABA, accessToken: () => NUMBER.accessToken }],
      clock: systemClock,
      events: { synced: () => undefined, syncFailed: () => undefined },
    });
    const early = createTemplateCatalogPolicy(store, fresh.hasSynced);
    const checkEarly = (sent: ValidSendRequest) => early.check({ tenant, request: sent, now: new Date(), facts: {} });
    try {
      assert.equal(fresh.hasSynced('acme', WABA), false);
      await assert.rejects(Promise.resolve(checkEarly(request('no_such_template', []))), UnavailableError);
      // What the catalog already knows is served meanwhile.
      await assert.doesNotReject(
        Promise.resolve(checkEarly(request('order_update', [body(text('Ada', 'first_name'), text('42', 'order_id'))]))),
      );
      await fresh.syncAll();
      assert.equal(fresh.hasSynced('acme', WABA), true);
      assert.equal(fresh.hasSynced('other-tenant', WABA), false);
      await assert.rejects(Promise.resolve(checkEarly(request('no_such_template', []))), NotFoundError);
    } finally {
      await fresh.stop();
    }
  });

  test('a template that is not APPROVED is FAILED_PRECONDITION TEMPLATE_NOT_APPROVED; a status Waygate does not know too', async () => {
    for (const status of ['PAUSED', 'DISABLED', 'SOMETHING_NEW']) {
      await store.applyChange(
        { tenantId: 'acme', wabaId: WABA, templateId: '', name: 'spring_sale', language: 'en_US' },
        { rawStatus: status },
        new Date(),
      );
      const error = await Promise.resolve(check(request('spring_sale', []))).catch((caught: unknown) => caught);
      assert.ok(error instanceof FailedPreconditionError, status);
      assert.equal(error.violations[0]?.type, 'TEMPLATE_NOT_APPROVED');
      assert.match(error.violations[0]?.description ?? '', new RegExp(status));
    }
    await sync.syncWaba(WABA);
  });

  test('a named template: names required, known, once each, and all of them', async () => {
    assert.deepEqual(
      await violations(request('order_update', [body(text('Ada'), text('42', 'order_id'), text('x', 'nope'), text('y', 'order_id'))])),
      [
        'template.components[0].parameters[0].parameter_name REQUIRED',
        'template.components[0].parameters[2].parameter_name UNKNOWN',
        'template.components[0].parameters[3].parameter_name DUPLICATE',
        'template.components[0].parameters MISSING',
      ],
    );
    assert.deepEqual(await check(request('order_update', [body(text('Ada', 'first_name'), text('42', 'order_id'))])), {
      templateCategory: 'UTILITY',
    });
  });

  test('a positional template: no names, the right count and types, the media header, known buttons with their sub_type', async () => {
    assert.deepEqual(
      await violations(
        request('spring_sale', [
          header(text('not an image')),
          body(text('a', 'name'), text('b'), text('c')),
          button('url', 0, { parameterName: '', value: { type: 'payload', payload: 'p' } }),
          button('quick_reply', 3),
        ]),
      ),
      [
        'template.components[0].parameters[0] WRONG_TYPE',
        'template.components[1].parameters[0].parameter_name UNEXPECTED',
        'template.components[1].parameters[2] UNEXPECTED',
        'template.components[2].sub_type MISMATCH',
        'template.components[3].index UNKNOWN',
      ],
    );
    assert.deepEqual(await violations(request('spring_sale', [body(text('a'))])), [
      'template.components[0].parameters TOO_FEW',
      'template.components MISSING',
    ]);
    assert.deepEqual(
      await check(
        request('spring_sale', [
          header(IMAGE),
          body(text('a'), text('b')),
          button('quick_reply', 0, { parameterName: '', value: { type: 'payload', payload: 'YES' } }),
        ]),
      ),
      { templateCategory: 'MARKETING' },
    );
  });

  test('authentication: the code in the body and as the url button text; a coupon_code is refused there; validity from the template', async () => {
    const coupon = { parameterName: '', value: { type: 'coupon_code' as const, couponCode: '123456' } };
    assert.deepEqual(await violations(request('login_code', [body(text('123456')), button('copy_code', 0, coupon)])), [
      'template.components[1].sub_type MISMATCH',
    ]);
    assert.deepEqual(await violations(request('login_code', [body(text('123456')), button('url', 0, coupon)])), [
      'template.components[1].parameters[0] WRONG_TYPE',
    ]);
    assert.deepEqual(await violations(request('login_code', [body(text('123456'))])), ['template.components MISSING']);
    assert.deepEqual(await violations(request('login_code', [body(text('123456')), button('url', 0, text('654321'))])), [
      'template.components[1].parameters[0] MISMATCH',
    ]);
    // message_send_ttl_seconds 300 on login_code; none on the one-tap template: 10 minutes.
    assert.deepEqual(await check(request('login_code', [body(text('123456')), button('url', 0, text('123456'))])), {
      templateCategory: 'AUTHENTICATION',
      defaultValiditySeconds: 300,
    });
    assert.deepEqual(await check(request('login_code_one_tap', [body(text('123456')), button('url', 0, text('123456'))])), {
      templateCategory: 'AUTHENTICATION',
      defaultValiditySeconds: 600,
    });
  });

  test('free-form messages pass untouched', async () => {
    assert.equal(await check({ ...request('x', []), content: { kind: 'text', body: 'hi', previewUrl: false } }), undefined);
  });
});
