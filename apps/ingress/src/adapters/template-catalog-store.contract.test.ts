import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { TemplateCatalogStore, TemplateDefinition } from '../domain/template-catalog';
import { MongoTemplateCatalogStore } from './mongo-template-catalog-store';
import { SqliteTemplateCatalogStore } from './sqlite-template-catalog-store';

const backends = contractBackends<TemplateCatalogStore>({
  sqlite: (file) => new SqliteTemplateCatalogStore(file),
  mongodb: (mongo) => MongoTemplateCatalogStore.open(mongo),
  close: (store) => store.close(),
});

function definition(overrides: Partial<TemplateDefinition> = {}): TemplateDefinition {
  return {
    templateId: '1001',
    name: 'order_update',
    language: 'en_US',
    rawStatus: 'APPROVED',
    rawCategory: 'UTILITY',
    parameterFormat: 'NAMED',
    components: [
      { type: 'BODY', headerFormat: '', parameterNames: ['first_name'], parameterCount: 1, buttonType: '', buttonSubType: '', index: 0 },
      { type: 'BUTTON', headerFormat: '', parameterNames: [], parameterCount: 1, buttonType: 'URL', buttonSubType: 'url', index: 0 },
    ],
    qualityScore: 'GREEN',
    otpType: '',
    codeExpirationMinutes: 0,
    messageSendTtlSeconds: 0,
    ...overrides,
  };
}

const T0 = new Date(1_700_000_000_000);
const T1 = new Date(1_700_000_060_000);
const T2 = new Date(1_700_000_120_000);

for (const backend of backends) {
  describeContract(backend, 'TemplateCatalogStore contract', (test) => {
    async function withStore(run: (store: TemplateCatalogStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('a sync stores every template whole, per tenant and WABA', () =>
      withStore(async (store) => {
        await store.replaceWaba('acme', 'waba-1', [definition()], T0, T0);
        assert.deepEqual(await store.find('acme', 'waba-1', 'order_update', 'en_US'), {
          ...definition(),
          tenantId: 'acme',
          wabaId: 'waba-1',
          syncedAt: T0,
        });
        assert.equal(await store.find('globex', 'waba-1', 'order_update', 'en_US'), undefined, 'scoped by tenant');
        assert.equal(await store.find('acme', 'waba-2', 'order_update', 'en_US'), undefined, 'scoped by WABA');
        assert.equal(await store.find('acme', 'waba-1', 'order_update', 'de'), undefined, 'scoped by language');
      }));

    test('a later sync updates, adds and removes what Meta no longer lists; raw strings are kept as reported', () =>
      withStore(async (store) => {
        await store.replaceWaba('acme', 'waba-1', [definition(), definition({ templateId: '1002', name: 'old_one' })], T0, T0);
        await store.replaceWaba('acme', 'waba-2', [definition({ templateId: '2001' })], T0, T0);
        await store.replaceWaba(
          'acme',
          'waba-1',
          [
            definition({ rawStatus: 'FLAGGED', rawCategory: 'NEW_CATEGORY' }),
            definition({ templateId: '1003', name: 'new_one', language: 'de' }),
          ],
          T1,
          T1,
        );
        const listed = await store.list('acme', { wabaId: 'waba-1', limit: 10 });
        assert.deepEqual(
          listed.map((template) => [template.name, template.language, template.rawStatus, template.rawCategory]),
          [
            ['new_one', 'de', 'APPROVED', 'UTILITY'],
            ['order_update', 'en_US', 'FLAGGED', 'NEW_CATEGORY'],
          ],
        );
        assert.equal((await store.list('acme', { wabaId: 'waba-2', limit: 10 })).length, 1, 'another WABA is untouched');
      }));

    test('a webhook change applies at once, by id or else by name and language; unknown templates are reported', () =>
      withStore(async (store) => {
        await store.replaceWaba('acme', 'waba-1', [definition()], T0, T0);
        const ref = { tenantId: 'acme', wabaId: 'waba-1', templateId: '1001', name: '', language: '' };
        assert.equal(await store.applyChange(ref, { rawStatus: 'PAUSED' }, T1), true);
        let found = await store.find('acme', 'waba-1', 'order_update', 'en_US');
        assert.equal(found?.rawStatus, 'PAUSED');
        assert.deepEqual(found?.statusChangedAt, T1);
        const byName = { tenantId: 'acme', wabaId: 'waba-1', templateId: '9', name: 'order_update', language: 'en_US' };
        assert.equal(await store.applyChange(byName, { rawCategory: 'MARKETING', qualityScore: 'RED' }, T1), true);
        found = await store.find('acme', 'waba-1', 'order_update', 'en_US');
        assert.deepEqual([found?.rawCategory, found?.qualityScore, found?.rawStatus], ['MARKETING', 'RED', 'PAUSED']);
        assert.equal(await store.applyChange({ ...ref, tenantId: 'globex' }, { rawStatus: 'APPROVED' }, T1), false, 'scoped by tenant');
        assert.equal(await store.applyChange({ ...ref, templateId: '404' }, { rawStatus: 'APPROVED' }, T1), false);
      }));

    test("a sync that started before a webhook status keeps that status; a later sync takes Meta's", () =>
      withStore(async (store) => {
        await store.replaceWaba('acme', 'waba-1', [definition()], T0, T0);
        const ref = { tenantId: 'acme', wabaId: 'waba-1', templateId: '1001', name: 'order_update', language: 'en_US' };
        await store.applyChange(ref, { rawStatus: 'PAUSED' }, T1);
        // Read from Meta before the pause, written after it.
        await store.replaceWaba('acme', 'waba-1', [definition({ rawStatus: 'APPROVED' })], T0, T2);
        assert.equal((await store.find('acme', 'waba-1', 'order_update', 'en_US'))?.rawStatus, 'PAUSED');
        await store.replaceWaba('acme', 'waba-1', [definition({ rawStatus: 'APPROVED' })], T2, T2);
        assert.equal((await store.find('acme', 'waba-1', 'order_update', 'en_US'))?.rawStatus, 'APPROVED');
      }));

    test('lists in pages ordered by WABA, name and language, filtered by WABA and name', () =>
      withStore(async (store) => {
        await store.replaceWaba(
          'acme',
          'waba-1',
          [definition({ name: 'b', language: 'en' }), definition({ name: 'a', language: 'en' }), definition({ name: 'a', language: 'de' })],
          T0,
          T0,
        );
        await store.replaceWaba('acme', 'waba-0', [definition({ name: 'z', language: 'en' })], T0, T0);
        await store.replaceWaba('globex', 'waba-9', [definition({ name: 'a', language: 'en' })], T0, T0);
        const key = (template: { wabaId: string; name: string; language: string }) =>
          `${template.wabaId}/${template.name}/${template.language}`;
        const first = await store.list('acme', { limit: 2 });
        assert.deepEqual(first.map(key), ['waba-0/z/en', 'waba-1/a/de']);
        const last = first[first.length - 1]!;
        const second = await store.list('acme', { limit: 10, after: { wabaId: last.wabaId, name: last.name, language: last.language } });
        assert.deepEqual(second.map(key), ['waba-1/a/en', 'waba-1/b/en']);
        assert.deepEqual((await store.list('acme', { name: 'a', limit: 10 })).map(key), ['waba-1/a/de', 'waba-1/a/en']);
        assert.deepEqual((await store.list('acme', { wabaId: 'waba-0', limit: 10 })).map(key), ['waba-0/z/en']);
      }));
  });
}
