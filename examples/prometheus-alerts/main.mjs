// From spend to a firing alert on one machine: the app spends through the mock provider while a
// real Prometheus scrapes its /metrics and evaluates Tollgate's shipped alert rules.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockProvider } from '@tollgate/mock-provider';
import { BUDGET_ID, startApp } from './app.mjs';
import { prometheusAvailable, rulesWithFor, SHIPPED_RULES, startPrometheus } from './prometheus-server.mjs';

if (!prometheusAvailable()) {
  console.error(
    'This example starts a real Prometheus, and no `prometheus` binary is on PATH.\n' +
      "Install Debian's package: apt-get update && apt-get install -y prometheus",
  );
  process.exit(1);
}

const percent = (fraction) => `${(fraction * 100).toFixed(1)} %`;
const mock = await startMockProvider({ outputTokens: 900 });
const app = await startApp({
  openaiBaseUrl: mock.openaiBaseUrl,
  budgetUsd: 0.05,
  onDecision: (event) => {
    if (event.type === 'threshold-crossed')
      console.log(`  guard: budget "${event.budgetId}" passed ${event.threshold * 100} % (in-process event)`);
  },
});
const rulesDir = await mkdtemp(join(tmpdir(), 'tollgate-rules-'));
const ruleFiles = await rulesWithFor([SHIPPED_RULES], rulesDir, '0s');
const prometheus = await startPrometheus({ scrapeTarget: app.metricsTarget, ruleFiles });

try {
  console.log(`App metrics:  http://${app.metricsTarget}/metrics`);
  console.log(
    `Prometheus:   ${prometheus.url}/alerts (rules from collector/prometheus/rules, "for" set to 0s)`,
  );
  console.log(`\nSpending through the mock provider against a $0.05 daily budget (estimates at list price):`);
  while (app.budgetUsed() < 0.8) {
    await app.spendOnce();
    console.log(`  one gpt-4o call settled: budget at ${percent(app.budgetUsed())}`);
  }

  console.log('\nWaiting for Prometheus to scrape the budget gauges and fire the warning...');
  const started = Date.now();
  const alert = await prometheus.waitForAlert(
    (a) =>
      a.labels.alertname === 'TollgateBudgetNearLimit' &&
      a.labels.tollgate_budget_id === BUDGET_ID &&
      a.state === 'firing',
    60_000,
  );
  console.log(
    `\nFIRING after ${Date.now() - started} ms: ${alert.labels.alertname} (${alert.labels.severity})`,
  );
  console.log(`  summary:     ${alert.annotations.summary}`);
  console.log(`  description: ${alert.annotations.description}`);
} finally {
  await prometheus.stop();
  await rm(rulesDir, { recursive: true, force: true });
  await app.close();
  await mock.close();
}
