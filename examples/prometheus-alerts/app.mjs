// The app: the Tollgate guard and the openai instrumentation, with metrics served on /metrics by
// the JS Prometheus exporter instead of being pushed over OTLP.
import { createServer } from 'node:http';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BudgetExceededError, createGuard } from '@tollgate/core';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';
import * as openaiModule from 'openai';

export const BUDGET_ID = 'daily-spend';

/**
 * Starts the app: a guard with one daily USD budget, the openai SDK instrumented to go through
 * it, and a loopback HTTP server on a free port whose /metrics Prometheus scrapes.
 */
export async function startApp({ openaiBaseUrl, budgetUsd = 0.05, onDecision } = {}) {
  // The instrumentation finds the gated call behind each HTTP attempt through the active
  // context: without a context manager, provider attempts (429s) and rate-limit headers go unseen.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // The exporter's own server listens on a fixed port; ours takes a free one and hands
  // /metrics to the exporter.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'tollgate-prometheus-alerts-example' }),
    readers: [exporter],
  });
  const guard = createGuard({
    budgets: [{ id: BUDGET_ID, limit: { usd: budgetUsd }, window: 'day', timeZone: 'UTC', alertAt: [0.8] }],
    onDecision,
  });
  const instrumentation = new OpenAIInstrumentation({ guard });
  instrumentation.setMeterProvider(meterProvider);
  // Patch the SDK this module loaded: works the same under `node` and under a test runner,
  // where no `--import` hook sees the SDK being loaded.
  instrumentation.instrument(openaiModule);

  const server = createServer((request, response) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname === '/metrics') {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const metricsTarget = `127.0.0.1:${server.address().port}`;
  const client = new openaiModule.OpenAI({ apiKey: 'not-needed', baseURL: openaiBaseUrl, maxRetries: 0 });

  const budget = () => guard.budgetInstances().find((b) => b.budgetId === BUDGET_ID && b.unit === 'usd');

  return {
    /** `host:port` to scrape; the path is /metrics. */
    metricsTarget,
    client,
    guard,
    /** Settled share of the USD budget, from the guard's own view (an estimate). */
    budgetUsed() {
      const state = budget();
      return state ? state.spent / state.limit : 0;
    },
    /** One long gpt-4o answer; resolves once its cost has been settled against the budget. */
    async spendOnce() {
      await client.chat.completions.create({
        model: 'gpt-4o',
        max_tokens: 1_000,
        messages: [{ role: 'user', content: 'Draft a detailed reply to the customer.' }],
      });
      // Settlement runs just after the SDK's promise resolves.
      for (let i = 0; i < 100 && (budget()?.reserved ?? 0) > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 5));
    },
    /** Calls until the settled spend reaches `fraction` of the budget; at most `maxCalls`. */
    async spendUntil(fraction, maxCalls = 50) {
      for (let calls = 0; this.budgetUsed() < fraction; calls++) {
        if (calls === maxCalls)
          throw new Error(`budget still at ${this.budgetUsed()} after ${maxCalls} calls`);
        await this.spendOnce();
      }
      return this.budgetUsed();
    },
    /** Calls until the budget refuses one; resolves to the settled share at that moment. */
    async spendUntilRefused(maxCalls = 50) {
      for (let calls = 0; calls < maxCalls; calls++) {
        try {
          await this.spendOnce();
        } catch (error) {
          if (BudgetExceededError.isInstance(error)) return this.budgetUsed();
          throw error;
        }
      }
      throw new Error(`no refusal after ${maxCalls} calls (budget at ${this.budgetUsed()})`);
    },
    async close() {
      instrumentation.uninstrument(openaiModule);
      instrumentation.disable();
      await new Promise((resolve) => server.close(resolve));
      await guard.close();
      await meterProvider.shutdown();
      context.disable();
    },
  };
}
