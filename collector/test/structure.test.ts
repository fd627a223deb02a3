/*
 * Docker cannot run here and no Collector, Jaeger or Grafana binary can be installed, so the
 * stack is checked structurally: every file parses, every component a pipeline names exists,
 * the services agree on host names and ports, and every query uses only series Tollgate
 * produces, under the names the Collector gives them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  collectorFamilyName,
  collectorSeriesNames,
  INSTRUMENTS,
  jsExporterFamilyName,
  namesInQuery,
} from './series-names';

const collectorDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${collectorDir}/${path}`, 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: parsed configuration documents are walked dynamically
const yamlOf = (path: string): any => parse(read(path));

const collector = yamlOf('otel-collector.yaml');
const compose = yamlOf('compose.yaml');
const prometheus = yamlOf('prometheus/prometheus.yml');
const rules = yamlOf('prometheus/rules/tollgate-alerts.yml');
const ruleTests = yamlOf('prometheus/tests/tollgate-alerts-test.yml');
const alertmanager = yamlOf('alertmanager/alertmanager.yml');
const datasources = yamlOf('grafana/provisioning/datasources/tollgate.yml');
const dashboardProviders = yamlOf('grafana/provisioning/dashboards/tollgate.yml');
// biome-ignore lint/suspicious/noExplicitAny: the dashboard model is walked dynamically
const dashboard: any = JSON.parse(read('grafana/dashboards/tollgate.json'));

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertRules: AlertRule[] = rules.groups.flatMap((group: { rules: AlertRule[] }) => group.rules);

/** `host:port` or `scheme://host:port/...` → [host, port]. */
function hostPort(address: string): [string, number] {
  const match = /^(?:[a-z]+:\/\/)?([^:/]+):(\d+)/.exec(address);
  if (!match) throw new Error(`no host:port in ${address}`);
  return [match[1]!, Number(match[2])];
}

/** Container ports compose publishes for a service, as host→container pairs. */
function published(service: string): Array<[number, number]> {
  return (compose.services[service].ports ?? []).map((entry: string) => {
    const [host, container] = String(entry).split(':').map(Number);
    return [host!, container!];
  });
}

/** The host path compose mounts at a container path (or a parent of it), with the rest of the path. */
function hostPathFor(service: string, containerPath: string): string | undefined {
  for (const volume of compose.services[service].volumes ?? []) {
    const [host, target] = String(volume).split(':');
    if (containerPath === target || containerPath.startsWith(`${target}/`))
      return `${host}${containerPath.slice(target!.length)}`;
  }
  return undefined;
}

describe('series names', () => {
  it('derives the Collector names the rules and dashboard are written against', () => {
    const names = Object.fromEntries(INSTRUMENTS.map((i) => [i.name, collectorFamilyName(i)]));
    expect(names).toEqual({
      'tollgate.cost': 'tollgate_cost_total',
      'tollgate.gate.decisions': 'tollgate_gate_decisions_total',
      'tollgate.gate.wait.duration': 'tollgate_gate_wait_duration_seconds',
      'tollgate.budget.limit': 'tollgate_budget_limit',
      'tollgate.budget.spent': 'tollgate_budget_spent',
      'tollgate.budget.reserved': 'tollgate_budget_reserved',
      'tollgate.provider.ratelimit.remaining': 'tollgate_provider_ratelimit_remaining',
      'tollgate.provider.attempts': 'tollgate_provider_attempts_total',
      'gen_ai.client.token.usage': 'gen_ai_client_token_usage',
      'gen_ai.client.operation.duration': 'gen_ai_client_operation_duration_seconds',
      'gen_ai.client.operation.time_to_first_chunk': 'gen_ai_client_operation_time_to_first_chunk_seconds',
      'tollgate.budget.exhausted': 'tollgate_budget_exhausted',
      'tollgate.budget.threshold_crossings': 'tollgate_budget_threshold_crossings_total',
      'tollgate.circuit.open': 'tollgate_circuit_open',
      'tollgate.cache.requests': 'tollgate_cache_requests_total',
      'tollgate.cost.saved': 'tollgate_cost_saved_total',
    });
  });

  it('gives counters and gauges the same names through the JS exporter, and durations (unit s) different ones', () => {
    for (const instrument of INSTRUMENTS) {
      const same = collectorFamilyName(instrument) === jsExporterFamilyName(instrument);
      expect(same, instrument.name).toBe(instrument.unit !== 's');
    }
  });

  it('would add the suffixes the Collector adds for units outside braces', () => {
    expect(collectorFamilyName({ name: 'a.cost', kind: 'counter', unit: 'USD' })).toBe('a_cost_USD_total');
    expect(collectorFamilyName({ name: 'a.open', kind: 'gauge', unit: '1' })).toBe('a_open_ratio');
    expect(collectorFamilyName({ name: 'a.duration.seconds', kind: 'histogram', unit: 's' })).toBe(
      'a_duration_seconds',
    );
  });

  it('matches the names and units packages/core records', () => {
    const semconv = readFileSync(`${repoDir}/packages/core/src/telemetry/semconv.ts`, 'utf8');
    const gateMetrics = readFileSync(`${repoDir}/packages/core/src/telemetry/gate-metrics.ts`, 'utf8');
    for (const instrument of INSTRUMENTS.filter((i) => i.constant)) {
      const declared = new RegExp(`export const ${instrument.constant} =\\s*'([^']+)'`).exec(semconv);
      expect(declared?.[1], instrument.constant).toBe(instrument.name);
      // The unit sits in the options object right after the name (a meter's create…() or an
      // accumulated counter on the meter), or after the gauge helper's name.
      const created = new RegExp(
        `(?:(?:create\\w+|AccumulatedCounter\\.on)\\(\\s*(?:meter\\s*,\\s*)?${instrument.constant}\\s*,\\s*\\{[^}]*?unit:\\s*'([^']+)')|(?:budgetGauge\\(\\s*${instrument.constant}\\b)`,
      ).exec(gateMetrics);
      expect(created, `${instrument.constant} is created in gate-metrics.ts`).not.toBeNull();
      const unit =
        created?.[1] ?? /createObservableGauge\(name, \{[^}]*unit: '([^']+)'/.exec(gateMetrics)?.[1];
      expect(unit, instrument.name).toBe(instrument.unit);
    }
  });

  it('finds metric names in a query, and only them', () => {
    expect(
      namesInQuery(
        'max by (tollgate_budget_id) (tollgate_budget_spent{job=~"$job", tollgate_budget_unit="usd"} / (tollgate_budget_limit > 0)) >= 0.8',
      ),
    ).toEqual({ metrics: ['tollgate_budget_spent', 'tollgate_budget_limit'], unknownFunctions: [] });
    expect(
      namesInQuery('sum by (le) (rate(gen_ai_client_operation_duration_bucket[$__rate_interval]))').metrics,
    ).toEqual(['gen_ai_client_operation_duration_bucket']);
    expect(namesInQuery('label_values(tollgate_gate_decisions_total, job)').metrics).toEqual([
      'tollgate_gate_decisions_total',
    ]);
    expect(namesInQuery('sum_rate(tollgate_cost_total[5m])').unknownFunctions).toEqual(['sum_rate']);
  });
});

describe('otel-collector.yaml', () => {
  const kinds = ['receivers', 'processors', 'exporters', 'connectors'] as const;
  const pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }> =
    collector.service.pipelines;

  it('defines every component a pipeline names, and uses every component it defines', () => {
    const defined = (kind: string) => Object.keys(collector[kind] ?? {});
    const used = new Set<string>();
    for (const [name, pipeline] of Object.entries(pipelines)) {
      for (const receiver of pipeline.receivers) {
        expect([...defined('receivers'), ...defined('connectors')], `${name} receiver`).toContain(receiver);
        used.add(receiver);
      }
      for (const processor of pipeline.processors ?? []) {
        expect(defined('processors'), `${name} processor`).toContain(processor);
        used.add(processor);
      }
      for (const exporter of pipeline.exporters) {
        expect([...defined('exporters'), ...defined('connectors')], `${name} exporter`).toContain(exporter);
        used.add(exporter);
      }
    }
    for (const kind of kinds) for (const component of defined(kind)) expect(used, kind).toContain(component);
    for (const extension of collector.service.extensions ?? [])
      expect(Object.keys(collector.extensions ?? {})).toContain(extension);
  });

  it('runs a connector as the exporter of one pipeline and the receiver of another', () => {
    for (const connector of Object.keys(collector.connectors ?? {})) {
      const from = Object.entries(pipelines).filter(([, p]) => p.exporters.includes(connector));
      const to = Object.entries(pipelines).filter(([, p]) => p.receivers.includes(connector));
      expect(from.length, `${connector} fed by a pipeline`).toBeGreaterThan(0);
      expect(to.length, `${connector} feeds a pipeline`).toBeGreaterThan(0);
    }
  });

  it('sends traces to Jaeger and metrics to the Prometheus exporter, memory_limiter first', () => {
    expect(pipelines.traces?.exporters).toContain('otlp_grpc/jaeger');
    expect(pipelines.metrics?.receivers).toEqual(['otlp']);
    expect(pipelines.metrics?.exporters).toContain('prometheus');
    for (const [name, pipeline] of Object.entries(pipelines))
      expect(pipeline.processors?.[0], name).toBe('memory_limiter');
  });

  it('sets the Prometheus name translation explicitly', () => {
    expect(collector.exporters.prometheus.translation_strategy).toBe('UnderscoreEscapingWithSuffixes');
    // Deprecated, and ignored once translation_strategy is set: keep it out to avoid confusion.
    expect(collector.exporters.prometheus).not.toHaveProperty('add_metric_suffixes');
  });
});

describe('ports and host names agree', () => {
  it('publishes the OTLP receiver ports the Collector listens on', () => {
    const grpc = hostPort(collector.receivers.otlp.protocols.grpc.endpoint);
    const http = hostPort(collector.receivers.otlp.protocols.http.endpoint);
    expect([grpc[1], http[1]]).toEqual([4317, 4318]);
    expect(published('otel-collector')).toEqual(
      expect.arrayContaining([
        [4317, 4317],
        [4318, 4318],
      ]),
    );
  });

  it('has Prometheus scrape the port the Collector exports metrics on', () => {
    const [, exportPort] = hostPort(collector.exporters.prometheus.endpoint);
    const targets = prometheus.scrape_configs.flatMap(
      (job: { static_configs: Array<{ targets: string[] }> }) => job.static_configs.flatMap((c) => c.targets),
    );
    expect(targets).toContain(`otel-collector:${exportPort}`);
    expect(compose.services).toHaveProperty('otel-collector');
    expect(published('otel-collector')).toContainEqual([exportPort, exportPort]);
    const job = prometheus.scrape_configs.find((c: { job_name: string }) => c.job_name === 'otel-collector');
    expect(job.honor_labels, 'keep the job/instance the Collector derived from each app').toBe(true);
  });

  it('sends traces to the Jaeger service on the port Jaeger receives OTLP gRPC on', () => {
    const [host, port] = hostPort(collector.exporters['otlp_grpc/jaeger'].endpoint);
    expect(compose.services).toHaveProperty(host);
    expect(compose.services[host].command).toContain(
      `--set=receivers.otlp.protocols.grpc.endpoint=0.0.0.0:${port}`,
    );
  });

  it('points Prometheus at Alertmanager, and Grafana at Prometheus and Jaeger', () => {
    const [amHost, amPort] = hostPort(prometheus.alerting.alertmanagers[0].static_configs[0].targets[0]);
    expect(amHost).toBe('alertmanager');
    expect(published(amHost)).toContainEqual([amPort, amPort]);
    const byType = Object.fromEntries(
      datasources.datasources.map((d: { type: string; url: string }) => [d.type, hostPort(d.url)]),
    );
    expect(byType.prometheus).toEqual(['prometheus', 9090]);
    expect(published('prometheus')).toContainEqual([9090, 9090]);
    expect(byType.jaeger).toEqual(['jaeger', 16686]);
    expect(published('jaeger')).toContainEqual([16686, 16686]);
  });
});

describe('compose.yaml mounts', () => {
  it('mounts the files each service is told to read', () => {
    const collectorConfig = /--config=(\S+)/.exec(compose.services['otel-collector'].command.join(' '))?.[1];
    expect(hostPathFor('otel-collector', collectorConfig!)).toBe('./otel-collector.yaml');
    const promConfig = /--config\.file=(\S+)/.exec(compose.services.prometheus.command.join(' '))?.[1];
    expect(hostPathFor('prometheus', promConfig!)).toBe('./prometheus/prometheus.yml');
    const amConfig = /--config\.file=(\S+)/.exec(compose.services.alertmanager.command.join(' '))?.[1];
    expect(hostPathFor('alertmanager', amConfig!)).toBe('./alertmanager/alertmanager.yml');
    expect(hostPathFor('grafana', '/etc/grafana/provisioning/datasources')).toBe(
      './grafana/provisioning/datasources',
    );
    const dashboardsPath = dashboardProviders.providers[0].options.path;
    expect(hostPathFor('grafana', dashboardsPath)).toBe('./grafana/dashboards');
    for (const service of Object.values(compose.services) as Array<{ volumes?: string[] }>)
      for (const volume of service.volumes ?? [])
        expect(existsSync(`${collectorDir}/${volume.split(':')[0]}`), volume).toBe(true);
  });

  it("loads the shipped rule files through prometheus.yml's rule_files", () => {
    const shipped = readdirSync(`${collectorDir}/prometheus/rules`).filter((f) => f.endsWith('.yml'));
    expect(shipped).toContain('tollgate-alerts.yml');
    for (const pattern of prometheus.rule_files as string[]) {
      const hostPattern = hostPathFor('prometheus', pattern);
      expect(hostPattern, pattern).toBe('./prometheus/rules/*.yml');
    }
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(compose.services) as Array<[string, { image: string }]>)
      expect(service.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
  });
});

describe('alert rules', () => {
  const allowed = collectorSeriesNames();
  const names = alertRules.map((rule) => rule.alert);

  it('has the alerts issue 6 asks for', () => {
    expect(names).toEqual([
      'TollgateBudgetNearLimit',
      'TollgateBudgetExhausted',
      'TollgateBudgetForecastExhaustion',
      'TollgateGateRejectionSpike',
      'TollgateRunawayLoop',
      'TollgateProviderRateLimited',
      'TollgateCircuitOpen',
      'TollgateTelemetryAbsent',
    ]);
  });

  it.each(alertRules.map((rule) => [rule.alert, rule] as const))(
    '%s selects only series Tollgate produces',
    (_name, rule) => {
      const { metrics, unknownFunctions } = namesInQuery(rule.expr);
      expect(metrics.length).toBeGreaterThan(0);
      expect(unknownFunctions).toEqual([]);
      for (const metric of metrics) expect(allowed, metric).toContain(metric);
    },
  );

  it('gives every alert a severity, a summary and a description', () => {
    for (const rule of alertRules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });

  it('says in every budget alert that money figures are estimates', () => {
    for (const rule of alertRules.filter((r) => r.expr.includes('tollgate_budget_')))
      expect(rule.annotations?.description, rule.alert).toMatch(/estimate/);
  });

  it('groups budget alerts by budget instance: id, unit and every scope dimension', () => {
    const instanceLabels = [
      'tollgate_budget_id',
      'tollgate_budget_unit',
      'tollgate_tenant',
      'tollgate_user',
      'tollgate_feature',
      'tollgate_model',
      'tollgate_provider',
    ];
    for (const rule of alertRules.filter((r) => r.expr.includes('tollgate_budget_'))) {
      const groupings = [...rule.expr.matchAll(/\bby \(([^)]*)\)/g)].map((m) => m[1]!.split(/,\s*/));
      expect(groupings.length, rule.alert).toBeGreaterThan(0);
      for (const grouping of groupings)
        expect(grouping, rule.alert).toEqual(expect.arrayContaining(instanceLabels));
    }
  });

  it('has promtool unit tests that show every alert firing and not firing', () => {
    expect(ruleTests.rule_files).toEqual(['../rules/tollgate-alerts.yml']);
    const cases: Array<{ alertname: string; exp_alerts?: unknown[] }> = ruleTests.tests.flatMap(
      (test: { interval?: string; alert_rule_test?: unknown[] }) => {
        expect(test.interval, 'promtool 2.42 needs an explicit interval').toBeTruthy();
        return test.alert_rule_test ?? [];
      },
    );
    for (const name of names) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name} firing`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name} not firing`,
      ).toBe(true);
    }
  });
});

describe('alertmanager.yml', () => {
  it('routes to a defined webhook receiver and inhibits by alerts that exist', () => {
    const receivers = alertmanager.receivers.map((r: { name: string }) => r.name);
    const routes = [alertmanager.route, ...(alertmanager.route.routes ?? [])];
    for (const route of routes) expect(receivers).toContain(route.receiver);
    const webhook = alertmanager.receivers.find((r: { webhook_configs?: unknown[] }) => r.webhook_configs);
    expect(webhook.webhook_configs[0].url).toMatch(/^https?:\/\//);
    const alertNames = new Set(alertRules.map((rule) => rule.alert));
    for (const inhibit of alertmanager.inhibit_rules) {
      for (const matcher of [...inhibit.source_matchers, ...inhibit.target_matchers]) {
        const pattern = /alertname=~?"([^"]+)"/.exec(matcher)?.[1];
        for (const name of pattern?.split('|') ?? []) expect(alertNames, matcher).toContain(name);
      }
    }
  });
});

describe('grafana dashboard', () => {
  const allowed = collectorSeriesNames();
  // biome-ignore lint/suspicious/noExplicitAny: the dashboard model is walked dynamically
  const panels: any[] = dashboard.panels.filter((p: { type: string }) => p.type !== 'row');
  const queries: Array<[string, string]> = [
    ...panels.flatMap((p) => p.targets.map((t: { expr: string }) => [p.title, t.expr] as [string, string])),
    ...dashboard.templating.list
      .filter((v: { type: string }) => v.type === 'query')
      .map((v: { name: string; definition: string }) => [`$${v.name}`, v.definition] as [string, string]),
  ];

  it('queries only series Tollgate produces', () => {
    expect(queries.length).toBeGreaterThan(10);
    for (const [where, query] of queries) {
      const { metrics, unknownFunctions } = namesInQuery(query);
      expect(metrics.length, where).toBeGreaterThan(0);
      expect(unknownFunctions, where).toEqual([]);
      for (const metric of metrics) expect(allowed, `${where}: ${metric}`).toContain(metric);
    }
  });

  it('has the panels issue 6 asks for', () => {
    const exprs = queries.map(([, q]) => q).join('\n');
    for (const series of [
      'tollgate_budget_spent',
      'tollgate_budget_limit',
      'tollgate_cost_total',
      'gen_ai_client_token_usage_sum',
      'tollgate_gate_decisions_total',
      'tollgate_provider_attempts_total{job=~"$job", http_response_status_code="429"}',
      'gen_ai_client_operation_duration_seconds_bucket',
      'gen_ai_client_operation_time_to_first_chunk_seconds_bucket',
      'tollgate_gate_wait_duration_seconds_bucket',
    ])
      expect(exprs).toContain(series);
    expect(exprs).toMatch(/by \(gen_ai_request_model\) \(rate\(tollgate_cost_total/);
    expect(exprs).toMatch(/tollgate_tenant!=""/);
    expect(exprs).toMatch(/tollgate_feature!=""/);
    expect(exprs).toMatch(/by \(gen_ai_token_type\)/);
  });

  it('uses the data source variable and unique panel ids on a 24-column grid', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
    const datasourceVariable = '${datasource}';
    const ids = dashboard.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.datasource.uid, panel.title).toBe(datasourceVariable);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('is the dashboard the provisioning loads, with the data source uid it provisions', () => {
    expect(dashboard.uid).toBe('tollgate-overview');
    const prometheusSource = datasources.datasources.find((d: { type: string }) => d.type === 'prometheus');
    expect(prometheusSource.isDefault).toBe(true);
    expect(dashboard.templating.list[0]).toMatchObject({ name: 'datasource', query: 'prometheus' });
  });
});
