/*
 * End to end on this machine: the app spends through the mock provider, a real Prometheus
 * (Debian's `prometheus` 2.42) scrapes its JS Prometheus exporter every second and evaluates
 * the shipped alert rules, the budget warning fires once spend passes 80 %, and the exhaustion
 * alert fires at the budget's first refusal and reaches a webhook through a real Alertmanager
 * (Debian's `prometheus-alertmanager` 0.25) running the shipped configuration.
 *
 * The rules are a copy of collector/prometheus/rules/tollgate-alerts.yml with every `for:` set
 * to 0s (see rulesWithFor); expressions, labels and annotations are the shipped ones.
 * Without the `prometheus` and Alertmanager binaries the test is skipped, except under CI=true,
 * where it fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerAvailable, startAlertmanager } from './alertmanager-server.mjs';
import { BUDGET_ID, startApp } from './app.mjs';
import { prometheusAvailable, rulesWithFor, SHIPPED_RULES, startPrometheus } from './prometheus-server.mjs';

const MISSING =
  "no `prometheus` or Alertmanager binary on PATH: install Debian's packages (apt-get update && apt-get install -y prometheus prometheus-alertmanager)";
const available = prometheusAvailable() && alertmanagerAvailable();
const required = process.env.CI === 'true';

if (!available && !required)
  console.warn(`[examples/prometheus-alerts] skipping the e2e alert test: ${MISSING}`);

if (!available && required) {
  describe('prometheus e2e (CI=true)', () => {
    it('has a prometheus binary to run against', () => {
      expect.fail(MISSING);
    });
  });
}

describe.skipIf(!available)('a budget warning fires in a real Prometheus', () => {
  let mock: MockProvider;
  let app: Awaited<ReturnType<typeof startApp>>;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  let alertmanager: Awaited<ReturnType<typeof startAlertmanager>>;
  let rulesDir: string;

  beforeAll(async () => {
    mock = await startMockProvider({ outputTokens: 900 });
    app = await startApp({ openaiBaseUrl: mock.openaiBaseUrl, budgetUsd: 0.05 });
    rulesDir = await mkdtemp(join(tmpdir(), 'tollgate-rules-'));
    const ruleFiles = await rulesWithFor([SHIPPED_RULES], rulesDir, '0s');
    alertmanager = await startAlertmanager();
    prometheus = await startPrometheus({
      scrapeTarget: app.metricsTarget,
      ruleFiles,
      alertmanagerUrl: alertmanager.url,
    });
  }, 30_000);

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    if (rulesDir) await rm(rulesDir, { recursive: true, force: true });
    await app?.close();
    await mock?.close();
  });

  const budgetAlert = (name: string) => (alert: { labels: Record<string, string> }) =>
    alert.labels.alertname === name && alert.labels.tollgate_budget_id === BUDGET_ID;

  it('exposes the series names the rules use, through the JS exporter', async () => {
    await app.spendOnce();
    const exposition = await (await fetch(`http://${app.metricsTarget}/metrics`)).text();
    const families = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    // Identical to the Collector's names: units in braces add no suffix on either path.
    for (const name of [
      'tollgate_budget_spent',
      'tollgate_budget_limit',
      'tollgate_budget_reserved',
      'tollgate_cost_total',
      'tollgate_gate_decisions_total',
      'tollgate_provider_attempts_total',
      'tollgate_provider_ratelimit_remaining',
      'gen_ai_client_token_usage',
    ])
      expect(families).toContain(name);
    // The JS exporter adds no unit suffix, where the Collector appends _seconds for unit "s".
    for (const name of ['gen_ai_client_operation_duration', 'tollgate_gate_wait_duration']) {
      expect(families).toContain(name);
      expect(families).not.toContain(`${name}_seconds`);
    }
    expect(exposition).toMatch(
      /^tollgate_budget_limit\{[^}]*tollgate_budget_id="daily-spend",tollgate_budget_unit="usd"[^}]*\} 0\.05$/m,
    );
  });

  it('stays quiet below 80 %', async () => {
    const used = await app.spendUntil(0.5);
    expect(used).toBeLessThan(0.8);
    // Wait until Prometheus has scraped this spend, then give the rules two evaluations.
    await expect
      .poll(
        async () =>
          Number(
            (await prometheus.query('max(tollgate_budget_spent / tollgate_budget_limit)'))[0]?.value[1] ?? 0,
          ),
        { timeout: 15_000, interval: 250 },
      )
      .toBeGreaterThanOrEqual(0.5);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const alerts = await prometheus.alerts();
    expect(alerts.filter(budgetAlert('TollgateBudgetNearLimit'))).toEqual([]);
  }, 30_000);

  it('fires TollgateBudgetNearLimit once spend passes 80 %, and not the exhausted alert', async () => {
    const used = await app.spendUntil(0.8);
    expect(used).toBeGreaterThanOrEqual(0.8);
    expect(used).toBeLessThan(1);

    const alert = await prometheus.waitForAlert(
      (a: { state: string; labels: Record<string, string> }) =>
        budgetAlert('TollgateBudgetNearLimit')(a) && a.state === 'firing',
      30_000,
    );
    expect(alert.labels).toMatchObject({
      severity: 'warning',
      job: 'tollgate-example',
      tollgate_budget_id: BUDGET_ID,
      tollgate_budget_unit: 'usd',
    });
    expect(Number(alert.value)).toBeCloseTo(used, 6);
    expect(alert.annotations.summary).toMatch(/^Budget daily-spend is at \d+(\.\d+)?% of its limit$/);
    expect(alert.annotations.description).toContain('estimates');

    const alerts = await prometheus.alerts();
    expect(alerts.filter(budgetAlert('TollgateBudgetExhausted'))).toEqual([]);
  }, 45_000);

  it('fires TollgateBudgetExhausted at the first refusal, below 100 % settled, and Alertmanager delivers it', async () => {
    const usedAtRefusal = await app.spendUntilRefused();
    const refusedAt = Date.now();
    // The gate refuses once the next call's worst case no longer fits: before spend reaches 100 %.
    expect(usedAtRefusal).toBeLessThan(1);

    const alert = await prometheus.waitForAlert(
      (a: { state: string; labels: Record<string, string> }) =>
        budgetAlert('TollgateBudgetExhausted')(a) && a.state === 'firing',
      30_000,
    );
    expect(alert.labels).toMatchObject({
      severity: 'critical',
      job: 'tollgate-example',
      tollgate_budget_id: BUDGET_ID,
      tollgate_budget_unit: 'usd',
    });
    expect(alert.annotations.summary).toBe(
      'Budget daily-spend is exhausted: the calls it covers are refused',
    );

    const { alert: delivered } = await alertmanager.delivered(
      (a: { status: string; labels: Record<string, string> }) =>
        a.status === 'firing' && budgetAlert('TollgateBudgetExhausted')(a),
      60_000,
    );
    expect(delivered.labels.severity).toBe('critical');
    expect(Date.now() - refusedAt).toBeLessThan(120_000);
  }, 90_000);
});
