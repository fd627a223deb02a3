import type { BudgetConfig, BudgetUnit } from '@tollgate/core';
import { calendarWindowAt } from '@tollgate/core';

/** One budget instance as a source reports it, in the budget's unit. */
export interface BudgetReading {
  budgetId: string;
  unit: BudgetUnit;
  scope: Readonly<Record<string, string>>;
  limit: number;
  spent: number;
  reserved: number;
  /** The window the reading belongs to, when the source or the config knows it. */
  window?: { kind: 'calendar'; startMs: number; endMs: number } | { kind: 'rolling'; lengthMs: number };
  /** When the spend next falls (calendar: window end; rolling: oldest spend leaves). */
  resetAtMs?: number;
}

/** A reading with what the on-call engineer asks of it. */
export interface BudgetRow extends BudgetReading {
  /** (spent + reserved) / limit: the share degradation rules and refusals look at. */
  used: number;
  resetInMs: number | undefined;
  /** Spend at the end of the calendar window if it goes on at the average rate so far. */
  projectedAtWindowEnd: number | undefined;
  /** When the limit is reached at that rate, if before the window ends. */
  exhaustsAtMs: number | undefined;
}

/** Adds share used, time to reset and the projection; rolling windows have no end to project to. */
export function toRow(reading: BudgetReading, nowMs: number): BudgetRow {
  const used = reading.limit > 0 ? (reading.spent + reading.reserved) / reading.limit : 0;
  let projected: number | undefined;
  let exhaustsAtMs: number | undefined;
  const window = reading.window;
  if (window?.kind === 'calendar') {
    const elapsed = Math.max(1, nowMs - window.startMs);
    const rate = reading.spent / elapsed;
    projected = reading.spent + rate * Math.max(0, window.endMs - nowMs);
    const room = reading.limit - reading.spent - reading.reserved;
    if (room <= 0) exhaustsAtMs = nowMs;
    else if (rate > 0 && nowMs + room / rate < window.endMs) exhaustsAtMs = nowMs + room / rate;
  }
  return {
    ...reading,
    used,
    resetInMs: reading.resetAtMs === undefined ? undefined : Math.max(0, reading.resetAtMs - nowMs),
    projectedAtWindowEnd: projected,
    exhaustsAtMs,
  };
}

/** Most used first, then by budget and scope so the order is stable between refreshes. */
export function byShareUsed(a: BudgetRow, b: BudgetRow): number {
  return (
    b.used - a.used ||
    a.budgetId.localeCompare(b.budgetId) ||
    JSON.stringify(a.scope).localeCompare(JSON.stringify(b.scope)) ||
    a.unit.localeCompare(b.unit)
  );
}

/** The current window of a configured budget at `nowMs`. */
export function configuredWindow(budget: BudgetConfig, nowMs: number): BudgetReading['window'] {
  if (typeof budget.window !== 'string') return { kind: 'rolling', lengthMs: budget.window.rollingMillis };
  const bounds = calendarWindowAt(budget.window, budget.timeZone ?? 'UTC', nowMs);
  return { kind: 'calendar', ...bounds };
}

/** Readings for configured budgets without `per` that no source reported yet: nothing spent. */
export function unusedBudgets(
  budgets: readonly BudgetConfig[],
  readings: readonly BudgetReading[],
  nowMs: number,
): BudgetReading[] {
  const missing: BudgetReading[] = [];
  for (const budget of budgets) {
    if (budget.per?.length) continue;
    for (const [unit, limit] of Object.entries(budget.limit) as [BudgetUnit, number][]) {
      if (limit === undefined) continue;
      if (readings.some((reading) => reading.budgetId === budget.id && reading.unit === unit)) continue;
      const window = configuredWindow(budget, nowMs);
      missing.push({
        budgetId: budget.id,
        unit,
        scope: {},
        limit,
        spent: 0,
        reserved: 0,
        window,
        resetAtMs: window?.kind === 'calendar' ? window.endMs : undefined,
      });
    }
  }
  return missing;
}
