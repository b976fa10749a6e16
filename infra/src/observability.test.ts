import { readFileSync } from 'node:fs';
import { loadConfig, type RunningService, start } from '@checkout/service-kit';
import { createCheckout } from '../../services/checkout/src/app';
import { configSchema as checkoutSchema } from '../../services/checkout/src/config';
import { createPaymentApp } from '../../services/payment/src/app';
import { configSchema as paymentSchema } from '../../services/payment/src/config';
import { readYaml, repoFile } from './testing.test.util';
import { DEFAULT_AMQP_URL, PORTS, TOPOLOGY } from './topology';

/**
 * Every metric that Grafana's dashboard and Prometheus's rules query must be one the
 * services export: read from the /metrics of a real stub and a real checkout (in-process).
 */

/** Not exported by our services, with why. */
const ALLOWED_ELSEWHERE = new Set([
  'up', // Prometheus's own series per scrape target
  // RabbitMQ's Prometheus plugin (rabbitmq_prometheus, per-object metrics on): messages per queue
  'rabbitmq_queue_messages_ready',
  'rabbitmq_queue_messages_unacked',
]);

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Metric names in a PromQL expression: identifiers that are neither functions, keywords, labels nor strings. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // grouping labels
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w:.])[A-Za-z_:][\w:]*/g)) {
    const after = stripped.slice(match.index + match[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function
    if (PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Label names an expression matches on or groups by (`{a="x", b!~"y"}`, `by (c, d)`). */
function labelNames(expr: string): string[] {
  const names = new Set<string>();
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  for (const block of unquoted.matchAll(/\{([^}]*)\}/g)) for (const match of block[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) names.add(match[1]!);
  for (const group of unquoted.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const name of group[1]!.split(',').map((part) => part.trim())) if (name !== '') names.add(name);
  }
  return [...names];
}

/** Label names of the samples in a Prometheus text exposition. */
function exposedLabels(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.matchAll(/^[A-Za-z_:][\w:]*\{([^}]*)\}/gm)) for (const match of line[1]!.matchAll(/(\w+)="/g)) names.add(match[1]!);
  return names;
}

/** Labels Prometheus adds to every scraped series (the job name and the target). */
const TARGET_LABELS = new Set(['job', 'instance']);

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardExprs(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(repoFile('infra/grafana/dashboards/resilient-checkout.json'), 'utf8')) as { panels: Panel[] };
  const walk = (panels: Panel[]): { where: string; expr: string }[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).filter((target) => target.expr !== undefined).map((target) => ({ where: `dashboard: ${panel.title}`, expr: target.expr! })),
      ...walk(panel.panels ?? []),
    ]);
  return walk(dashboard.panels);
}

function ruleExprs(): { where: string; expr: string }[] {
  const rules = readYaml<{ groups: { rules: { alert?: string; record?: string; expr: string }[] }[] }>('infra/prometheus/rules.yml');
  return rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `rule: ${rule.alert ?? rule.record}`, expr: rule.expr })));
}

/** Names in a Prometheus text exposition (histograms also as _bucket, _sum, _count). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

async function scrape(running: RunningService): Promise<string> {
  const res = await fetch(`${running.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe('the metrics of Grafana and Prometheus exist', () => {
  const exported = new Set<string>();
  const labels = new Set<string>();
  const registries: { getMetricsAsArray(): unknown[] }[] = [];
  const running: RunningService[] = [];
  let deleteTopology: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const stub = createPaymentApp({ config: loadConfig(paymentSchema, { LOG_LEVEL: 'silent', FAULTS_ENABLED: 'true', ADMIN_TOKEN: 'metrics-test-token' }) }).service;
    running.push(await start(stub, { port: 0, host: '127.0.0.1' }));
    registries.push(stub.metrics.registry);
    // A real checkout: its breakers and its queue-depth gauge. Its own queue names, removed after.
    const config = loadConfig(checkoutSchema, {
      LOG_LEVEL: 'silent',
      AMQP_URL: process.env.AMQP_URL ?? DEFAULT_AMQP_URL,
      AMQP_PREFIX: `infra-metrics-test-${process.pid}.`,
    });
    const checkout = await createCheckout(config);
    // With the broker up (CI has one), wait for it so that the queues exist and are deleted after.
    await Promise.race([checkout.connection.ready().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    deleteTopology = async () => {
      if (checkout.connection.isReady) await checkout.connection.deleteTopology().catch(() => undefined);
    };
    running.push(await start(checkout.service, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1_000 }));
    registries.push(checkout.service.metrics.registry);
    // Label names as declared (a counter without samples yet, e.g. transitions, shows none) and as exposed.
    for (const registry of registries) for (const metric of registry.getMetricsAsArray()) for (const label of (metric as unknown as { labelNames?: string[] }).labelNames ?? []) labels.add(label);
    for (const service of running) {
      const text = await scrape(service);
      for (const name of exposedNames(text)) exported.add(name);
      for (const label of exposedLabels(text)) labels.add(label);
    }
  });

  afterAll(async () => {
    await deleteTopology?.();
    for (const service of running.reverse()) await service.shutdown();
  });

  test('metricNames reads the metrics of an expression, not its functions, labels or ranges', () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (le, breaker) (rate(circuit_breaker_call_duration_seconds_bucket{service="checkout", state="up"}[$__rate_interval])))'),
    ).toEqual(['circuit_breaker_call_duration_seconds_bucket']);
    expect(metricNames('sum by (breaker) (a{x="1"}) + 2 * max(b) == 1 and on(job) up offset 5m')).toEqual(['a', 'b', 'up']);
  });

  test('the services export what the dashboards are built on', () => {
    for (const name of ['circuit_breaker_state', 'circuit_breaker_calls_total', 'circuit_breaker_call_duration_seconds_bucket', 'http_request_duration_seconds_bucket', 'faults_injected_total', 'retry_queue_messages']) {
      expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
    }
  });

  test.each([...dashboardExprs(), ...ruleExprs()].map(({ where, expr }) => [where, expr]))('%s queries exported metrics: %s', (_where, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect({ name, known: exported.has(name) || ALLOWED_ELSEWHERE.has(name) }).toEqual({ name, known: true });
  });

  test('labelNames reads the labels an expression matches on or groups by', () => {
    expect(labelNames('sum by (breaker, outcome) (rate(a{service="checkout", route!~"/x{1}"}[5m]))').sort()).toEqual(['breaker', 'outcome', 'route', 'service']);
  });

  test.each([...dashboardExprs(), ...ruleExprs()].filter(({ expr }) => metricNames(expr).every((name) => !ALLOWED_ELSEWHERE.has(name))).map(({ where, expr }) => [where, expr]))(
    '%s matches and groups on labels the services export: %s',
    (_where, expr) => {
      for (const label of labelNames(expr)) expect({ label, known: labels.has(label) || TARGET_LABELS.has(label) }).toEqual({ label, known: true });
    },
  );

  test('Prometheus scrapes every service that serves /metrics, and RabbitMQ', () => {
    const config = readYaml<{ scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[]; rule_files: string[] }>(
      'infra/prometheus/prometheus.yml',
    );
    const targets = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((s) => s.targets)]));
    const expected = Object.fromEntries(TOPOLOGY.filter((spec) => spec.metrics).map((spec) => [spec.name, [`${spec.name}:${spec.port}`]]));
    expect(targets).toEqual({ ...expected, rabbitmq: [`rabbitmq:${PORTS.rabbitmqPrometheus}`] });
    for (const job of config.scrape_configs) expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(config.rule_files).toEqual(['/etc/prometheus/rules.yml']); // infra/prometheus is mounted at /etc/prometheus
  });

  test("Grafana's data source is the one its dashboard uses", () => {
    const datasources = readYaml<{ datasources: { uid: string; url: string; type: string }[] }>('infra/grafana/provisioning/datasources/prometheus.yml').datasources;
    expect(datasources).toEqual([expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: `http://prometheus:${PORTS.prometheus}` })]);
    const uids = new Set(JSON.stringify(JSON.parse(readFileSync(repoFile('infra/grafana/dashboards/resilient-checkout.json'), 'utf8'))).match(/"uid":"[^"]+"/g));
    expect([...uids].sort()).toEqual(['"uid":"prometheus"', '"uid":"resilient-checkout"']);
  });
});
