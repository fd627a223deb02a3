import type { BudgetConfig, BudgetUnit } from '@tollgate/core';
import { CliError } from '../cli-error';
import { type BudgetReading, configuredWindow } from './budget-row';

const METRICS = ['limit', 'spent', 'reserved'] as const;
/** Labels that identify the budget rather than its scope. */
const BUDGET_LABELS = new Set(['__name__', 'tollgate_budget_id', 'tollgate_budget_unit', 'job', 'instance']);

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * Reads `tollgate_budget_limit`, `_spent` and `_reserved` from a Prometheus server: for
 * deployments whose budgets live in each process's memory and are exported as metrics. Each
 * process keeps its own budgets, so readings of different instances stay apart. Windows and
 * reset times come from the config when it is given.
 */
export async function readPrometheusBudgets(
  baseUrl: string,
  budgets: readonly BudgetConfig[] | undefined,
): Promise<{ nowMs: number; readings: BudgetReading[] }> {
  const results = await Promise.all(METRICS.map((name) => query(baseUrl, `tollgate_budget_${name}`)));
  const nowMs = Date.now();
  const instances = new Set(results.flat().map((sample) => sample.metric.instance));
  const byKey = new Map<string, BudgetReading>();
  results.forEach((samples, index) => {
    const field = METRICS[index]!;
    for (const { metric, value } of samples) {
      const budgetId = metric.tollgate_budget_id;
      const unit = metric.tollgate_budget_unit as BudgetUnit | undefined;
      if (budgetId === undefined || unit === undefined) continue;
      const scope: Record<string, string> = {};
      for (const [label, labelValue] of Object.entries(metric)) {
        if (!BUDGET_LABELS.has(label) && label.startsWith('tollgate_'))
          scope[label.slice('tollgate_'.length)] = labelValue;
      }
      if (instances.size > 1 && metric.instance) scope.instance = metric.instance;
      const key = JSON.stringify([budgetId, unit, scope]);
      let reading = byKey.get(key);
      if (!reading) {
        const budget = budgets?.find((candidate) => candidate.id === budgetId);
        const window = budget ? configuredWindow(budget, nowMs) : undefined;
        reading = {
          budgetId,
          unit,
          scope,
          limit: 0,
          spent: 0,
          reserved: 0,
          window,
          resetAtMs: window?.kind === 'calendar' ? window.endMs : undefined,
        };
        byKey.set(key, reading);
      }
      reading[field] = Number(value[1]);
    }
  });
  return { nowMs, readings: [...byKey.values()] };
}

async function query(baseUrl: string, promql: string): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', promql);
  let body: { status?: string; error?: string; data?: { resultType?: string; result?: VectorSample[] } };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    body = (await response.json()) as typeof body;
  } catch (error) {
    const detail = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = detail?.code ?? detail?.message;
    throw new CliError(
      `Cannot query Prometheus at ${baseUrl}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
    );
  }
  if (body.status !== 'success' || body.data?.resultType !== 'vector') {
    throw new CliError(
      `Prometheus at ${baseUrl} refused ${promql}: ${body.error ?? JSON.stringify(body).slice(0, 200)}`,
    );
  }
  return body.data.result ?? [];
}
