import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { METRIC_HTTP_SERVER_REQUEST_DURATION } from '@opentelemetry/semantic-conventions';
import { REPO_ROOT, renderRegion } from './helm-chart';
import { discoverSourceInstruments, loadMetricCatalog, promqlMetricNames, type Provenance } from './metric-catalog';

const DASHBOARD_FILE = path.join(REPO_ROOT, 'deploy', 'grafana', 'waygate-dashboard.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr?: string; refId: string }[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}
interface AlertRule {
  alert: string;
  expr: string;
}

let catalog: Map<string, Provenance>;
before(async () => {
  catalog = await loadMetricCatalog(REPO_ROOT);
});

/** The names an expression reads that no service, library or Prometheus produces. */
function unknownNames(expression: string): string[] {
  return promqlMetricNames(expression).filter((name) => !catalog.has(name));
}

function assumedNames(expressions: readonly string[]): string[] {
  return [...new Set(expressions.flatMap(promqlMetricNames).filter((name) => catalog.get(name) === 'assumed'))].sort();
}

test('the catalog finds the instruments in the code and renders them as the Prometheus exporter does', () => {
  const instruments = discoverSourceInstruments(REPO_ROOT).map((instrument) => `${instrument.kind} ${instrument.name}`);
  assert.ok(instruments.includes('ObservableGauge waygate.delivery.oldest_pending.age'), instruments.join('\n'));
  assert.ok(instruments.includes('Counter waygate.consumer.dead_letters'));
  assert.equal(catalog.get('waygate_delivery_oldest_pending_age'), 'source', 'gauge: dots -> underscores, no unit suffix');
  assert.equal(catalog.get('waygate_consumer_dead_letters_total'), 'source', 'counter: + _total');
  assert.equal(catalog.get('http_server_request_duration_bucket'), 'library', 'histogram: _bucket/_sum/_count');
  assert.equal(catalog.has('waygate_consumer_dead_letters'), false, 'a counter has no series without _total');
});

test('the HTTP instrumentation the services register still creates the histogram the dashboard reads', () => {
  const source = readFileSync(require.resolve('@opentelemetry/instrumentation-http/build/src/http.js', { paths: [REPO_ROOT] }), 'utf8');
  assert.match(source, /createHistogram\(semantic_conventions_1\.METRIC_HTTP_SERVER_REQUEST_DURATION/);
  assert.equal(METRIC_HTTP_SERVER_REQUEST_DURATION, 'http.server.request.duration');
});

test('PromQL metric names are read past functions, matchers, ranges, grouping labels and Grafana variables', () => {
  assert.deepEqual(promqlMetricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket{namespace="x", le!="1"}[5m]))) > 60'), [
    'a_bucket',
  ]);
  assert.deepEqual(
    promqlMetricNames(
      'sum(rate(a_total{outcome!="sent"}[$__rate_interval])) / on(instance) group_left sum(b_total{t=~"$tenant"}) or up == 0',
    ),
    ['a_total', 'b_total', 'up'],
  );
  assert.deepEqual(
    promqlMetricNames('label_values(up{waygate_service!=""}, namespace)'),
    ['up', 'namespace'],
    'label_values: the label is read as a name',
  );
});

test("every PrometheusRule alert reads only metrics that exist, scoped to the release namespace; the issue's alerts are all there", () => {
  const rule = renderRegion('eu').find((object) => object.kind === 'PrometheusRule');
  assert.ok(rule, 'PrometheusRule rendered');
  const rules = (rule.spec as { groups: { rules: AlertRule[] }[] }).groups.flatMap((group) => group.rules);
  for (const { alert, expr } of rules) {
    assert.deepEqual(unknownNames(expr), [], `${alert}: ${expr}`);
    assert.match(expr, /namespace="waygate-eu"/, `${alert} is scoped to its release`);
  }
  const alerts = rules.map((rule) => rule.alert);
  for (const required of [
    'WaygateOldestPendingDeliveryOld',
    'WaygateDeadLetters',
    'WaygateWebhookProcessingLag',
    'WaygateCallbackDeadLetters',
    'WaygateDeliveryErrorRate',
    'WaygateWebhookErrorRate',
  ]) {
    assert.ok(alerts.includes(required), `alert ${required}`);
  }
  assert.deepEqual(assumedNames(rules.map((rule) => rule.expr)), [], 'every alert reads a metric the code emits');
});

test('the Grafana dashboard parses, and every panel query reads only metrics that exist', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
  assert.equal(dashboard.uid, 'waygate-overview');
  const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
  assert.equal(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length, 'panel ids are unique');
  const expressions: string[] = [];
  for (const panel of panels) {
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the 24-column grid`);
    const targets = panel.targets ?? [];
    assert.ok(targets.length > 0, `${panel.title} has a query`);
    for (const target of targets) {
      assert.ok(target.expr, `${panel.title} ${target.refId} has an expression`);
      assert.deepEqual(unknownNames(target.expr), [], `${panel.title}: ${target.expr}`);
      assert.match(target.expr, /namespace="\$namespace"/, `${panel.title} is scoped to the chosen region`);
      expressions.push(target.expr);
    }
  }
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'object' ? variable.query.query : undefined;
    if (query) assert.deepEqual(unknownNames(query.replace(/^label_values\((.*),\s*\w+\)$/, '$1')), [], `variable ${variable.name}`);
  }
  assert.deepEqual(assumedNames(expressions), [], 'every panel reads a metric the code emits');
});

test('the dashboard covers throughput, latency, pending age, statuses, dead letters and per-tenant views', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
  const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));
  const reads = (name: string) => expressions.some((expr) => promqlMetricNames(expr).includes(name));
  assert.ok(reads('waygate_delivery_attempts_total'), 'throughput');
  assert.ok(reads('http_server_request_duration_bucket'), 'latency');
  assert.ok(reads('waygate_delivery_oldest_pending_age'), 'pending age');
  assert.ok(reads('waygate_messages_status_changes_total'), 'statuses');
  assert.ok(reads('waygate_consumer_dead_letters_total') && reads('waygate_feed_callback_dead_letters_total'), 'dead letters');
  assert.ok(dashboard.templating.list.some((variable) => variable.name === 'tenant'));
  assert.ok(expressions.filter((expr) => expr.includes('tenant=~"$tenant"')).length >= 3, 'per-tenant panels filter by $tenant');
});

test('the name check refuses a query on a metric nobody emits', () => {
  assert.deepEqual(
    unknownNames('sum(rate(waygate_delivery_attempt_total[5m]))'),
    ['waygate_delivery_attempt_total'],
    'a typo (attempt for attempts)',
  );
  assert.deepEqual(
    unknownNames('waygate_delivery_oldest_pending_age_seconds'),
    ['waygate_delivery_oldest_pending_age_seconds'],
    'a unit suffix the exporter does not add',
  );
});
