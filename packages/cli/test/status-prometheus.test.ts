/*
 * `tollgate status --prometheus` against a real Prometheus (Debian's `prometheus` binary)
 * scraping the examples/prometheus-alerts app, whose guard keeps its budget in memory and
 * spends through the mock provider. Skipped without the binary, except under CI=true.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, requireBuiltCli, runCli } from './run-cli';

// The example's app and Prometheus launcher, reused as they are (plain JavaScript, typed here).
const EXAMPLE = new URL('../../../examples/prometheus-alerts/', import.meta.url);
interface ExampleApp {
  metricsTarget: string;
  guard: { budgetInstances(): { budgetId: string; spent: number }[] };
  spendUntil(fraction: number): Promise<number>;
  close(): Promise<void>;
}
interface PrometheusServer {
  url: string;
  query(promql: string): Promise<{ value: [number, string] }[]>;
  stop(): Promise<void>;
}
const { BUDGET_ID, startApp } = (await import(new URL('app.mjs', EXAMPLE).href)) as {
  BUDGET_ID: string;
  startApp(options: { openaiBaseUrl: string; budgetUsd: number }): Promise<ExampleApp>;
};
const { prometheusAvailable, startPrometheus } = (await import(
  new URL('prometheus-server.mjs', EXAMPLE).href
)) as {
  prometheusAvailable(): boolean;
  startPrometheus(options: { scrapeTarget: string }): Promise<PrometheusServer>;
};

const MISSING = 'no `prometheus` binary on PATH: apt-get install -y prometheus';
const available = prometheusAvailable();

if (!available && process.env.CI === 'true') {
  describe('tollgate status --prometheus (CI=true)', () => {
    it('has a prometheus binary to run against', () => {
      expect.fail(MISSING);
    });
  });
} else if (!available) {
  console.warn(`SKIPPED: ${MISSING}; the \`tollgate status --prometheus\` test did not run.`);
}

interface StatusRow {
  budgetId: string;
  unit: string;
  limit: number;
  spent: number;
  reserved: number;
  used: number;
  resetInMs: number | null;
}

describe.skipIf(!available)('tollgate status --prometheus', { timeout: 40_000 }, () => {
  let mock: MockProvider;
  let app: ExampleApp;
  let prometheus: PrometheusServer;
  let dir: string;

  beforeAll(async () => {
    requireBuiltCli();
    mock = await startMockProvider({ outputTokens: 900 });
    app = await startApp({ openaiBaseUrl: mock.openaiBaseUrl, budgetUsd: 0.05 });
    prometheus = await startPrometheus({ scrapeTarget: app.metricsTarget });
    dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  }, 40_000);

  afterAll(async () => {
    await prometheus?.stop();
    await app?.close();
    await mock?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the spend Prometheus scraped from an app with in-memory budgets', async () => {
    const used = await app.spendUntil(0.3);
    const guardView = app.guard
      .budgetInstances()
      .find((b: { budgetId: string }) => b.budgetId === BUDGET_ID)!;
    // Wait until Prometheus holds exactly what the guard holds.
    await expect
      .poll(async () => Number((await prometheus.query('tollgate_budget_spent'))[0]?.value[1] ?? -1), {
        timeout: 20_000,
        interval: 250,
      })
      .toBeCloseTo(guardView.spent, 9);

    const result = await runCli(['status', '--prometheus', prometheus.url, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = (JSON.parse(result.stdout) as { source: string; budgets: StatusRow[] }).budgets;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ budgetId: BUDGET_ID, unit: 'usd', limit: 0.05, reserved: 0 });
    expect(rows[0]!.spent).toBeCloseTo(guardView.spent, 9);
    expect(rows[0]!.used).toBeCloseTo(used, 6);
    // Metrics carry no window: without --config there is no reset time.
    expect(rows[0]!.resetInMs).toBeNull();

    const text = await runCli(['status', '--prometheus', prometheus.url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${BUDGET_ID}\\s+\\(all\\)\\s+\\$0\\.05\\s+\\$0\\.0\\d+`, 'm'));
  }, 40_000);

  it('takes windows and reset times from --config', async () => {
    const configPath = join(dir, 'tollgate.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        guard: { budgets: [{ id: BUDGET_ID, limit: { usd: 0.05 }, window: 'day', timeZone: 'UTC' }] },
      }),
    );
    const result = await runCli(['status', '--prometheus', prometheus.url, '--config', configPath, '--json']);
    expect(result.code).toBe(0);
    const [row] = (JSON.parse(result.stdout) as { budgets: StatusRow[] }).budgets;
    const endOfDayUtc = new Date().setUTCHours(24, 0, 0, 0);
    expect(row!.resetInMs).toBeGreaterThan(0);
    expect(Math.abs(Date.now() + row!.resetInMs! - endOfDayUtc)).toBeLessThan(10_000);
  });

  it('reports a Prometheus that does not answer in one line, exit 1', async () => {
    const port = await closedPort();
    const result = await runCli(['status', '--prometheus', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: Cannot query Prometheus at http://127.0.0.1:${port}: fetch failed (ECONNREFUSED)\n`,
    );
    expect(hasStackTrace(result.stderr)).toBe(false);
  });
});

/** A loopback port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
