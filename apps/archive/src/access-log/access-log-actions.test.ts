import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveServiceService, SearchMessagesRequest } from '@waygate/proto';
import { ACCESS_LOG_ACTIONS, ACCESS_LOGGED_SERVICES, fallbackAccessLogAction } from './access-log-actions';

test('every RPC of the recorded services has an action of the form <service>.<Method>', () => {
  const paths = ACCESS_LOGGED_SERVICES.flatMap((service) => Object.values(service).map((method) => method.path));
  assert.equal(paths.length, 18, 'ArchiveService 7, GovernanceService 7, ArchiveLogService 4');
  for (const path of paths) {
    const action = ACCESS_LOG_ACTIONS.get(path);
    assert.ok(action, `${path} is listed in access-log-actions.ts`);
    assert.equal(action.action, fallbackAccessLogAction(path).action, `${path}'s action follows the naming rule`);
  }
  assert.equal(ACCESS_LOG_ACTIONS.size, paths.length, 'no action for an RPC that does not exist');
});

test("a search's filters keep the query's length and the customer's pseudonym, never either value", async () => {
  const action = ACCESS_LOG_ACTIONS.get(ArchiveServiceService.searchMessages.path);
  const filters = await action?.filters(
    SearchMessagesRequest.fromPartial({ query: 'secret words', customer: '+4915112345678', pageToken: 'eyJ0b2tlbiI6MX0', pageSize: 20 }),
    async (customer) => `ref:${customer.length}`,
  );
  assert.deepEqual(filters, { query_length: 12, customer_ref: 'ref:14', page_size: 20, next_page: true });
});

test('an unlisted method is recorded by name only', async () => {
  const action = fallbackAccessLogAction('/waygate.governance.v1.GovernanceService/PurgeEverything');
  assert.equal(action.action, 'governance.PurgeEverything');
  assert.deepEqual(await action.filters({ customer: '+4915112345678' }, async () => 'x'), { unlisted_method: true });
});
