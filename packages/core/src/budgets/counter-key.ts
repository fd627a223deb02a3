import type { ScopeDimension, ScopeValues } from '../scope/scope';
import type { BudgetUnit } from './budget-units';

/**
 * Counter identity: `budgetId|unit|dimension=value,…|windowStart`, with every free-text
 * part URI-encoded so the key splits back unambiguously.
 */
export function counterKey(
  budgetId: string,
  unit: BudgetUnit,
  scope: ScopeValues,
  windowStartMs: number | undefined,
): string {
  const dims = Object.entries(scope)
    .map(([dimension, value]) => `${dimension}=${encodeURIComponent(value as string)}`)
    .join(',');
  const base = `${encodeURIComponent(budgetId)}|${unit}|${dims}`;
  return windowStartMs === undefined ? base : `${base}|${windowStartMs}`;
}

/** Splits a counter key back into its parts (for events about reservations of other processes). */
export function parseCounterKey(key: string): {
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  windowStartMs: number | undefined;
} {
  const [id = '', unit = 'usd', dims = '', start] = key.split('|');
  const scope: ScopeValues = {};
  for (const pair of dims.split(',')) {
    if (!pair) continue;
    const [dimension, value = ''] = pair.split('=');
    scope[dimension as ScopeDimension] = decodeURIComponent(value);
  }
  return {
    budgetId: decodeURIComponent(id),
    unit: unit as BudgetUnit,
    scope,
    windowStartMs: start === undefined ? undefined : Number(start),
  };
}
