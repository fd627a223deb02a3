import type { BudgetMatch, BudgetWindow, CalendarWindow } from '../budgets/budget-config';
import { BUDGET_UNIT_NAMES, BUDGET_UNITS, toLedgerLimit } from '../budgets/budget-units';
import { isValidTimeZone } from '../budgets/budget-window';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import { TollgateConfigError } from '../errors/config-error';
import { SCOPE_DIMENSIONS } from '../scope/scope';
import {
  expectArray,
  expectKnownKeys,
  expectOneOf,
  expectRecord,
  expectString,
  expectStringOrList,
  isRecord,
  optionalNumber,
} from './config-reader';

const CALENDAR_WINDOWS: readonly CalendarWindow[] = ['minute', 'hour', 'day', 'week', 'month'];

/** Validates `budgets`: each budget, and that ids are unique. */
export function normalizeBudgets(value: unknown): NormalizedBudget[] {
  const budgets = expectArray(value, 'budgets').map((budget, index) =>
    normalizeBudget(budget, `budgets[${index}]`),
  );
  const seen = new Set<string>();
  budgets.forEach((budget, index) => {
    if (seen.has(budget.id))
      throw new TollgateConfigError(`budgets[${index}].id`, 'must be unique', budget.id);
    seen.add(budget.id);
  });
  return budgets;
}

function normalizeBudget(value: unknown, field: string): NormalizedBudget {
  const budget = expectRecord(value, field);
  expectKnownKeys(budget, field, ['id', 'limit', 'window', 'timeZone', 'per', 'match', 'alertAt']);
  const id = expectString(budget.id, `${field}.id`);

  const limitRecord = expectRecord(budget.limit, `${field}.limit`);
  expectKnownKeys(limitRecord, `${field}.limit`, BUDGET_UNIT_NAMES);
  const limits = BUDGET_UNIT_NAMES.flatMap((unit) => {
    const amount = optionalNumber(limitRecord[unit], `${field}.limit.${unit}`, {
      integer: BUDGET_UNITS[unit].wholeLimits,
      min: 0,
      minInclusive: false,
      max: BUDGET_UNITS[unit].maxLimit,
    });
    if (amount === undefined) return [];
    return [{ unit, limit: toLedgerLimit(unit, amount) }];
  });
  if (limits.length === 0)
    throw new TollgateConfigError(
      `${field}.limit`,
      `must set at least one of ${BUDGET_UNIT_NAMES.join(', ')}`,
      budget.limit,
    );

  const window = normalizeWindow(budget.window, `${field}.window`);
  const timeZone = budget.timeZone === undefined ? 'UTC' : expectString(budget.timeZone, `${field}.timeZone`);
  if (!isValidTimeZone(timeZone))
    throw new TollgateConfigError(
      `${field}.timeZone`,
      'is not an IANA time zone this runtime knows',
      timeZone,
    );

  const per = expectArray(budget.per, `${field}.per`).map((dimension, index) =>
    expectOneOf(dimension, `${field}.per[${index}]`, SCOPE_DIMENSIONS),
  );
  if (new Set(per).size !== per.length)
    throw new TollgateConfigError(`${field}.per`, 'lists a dimension twice', budget.per);

  const match: Partial<Record<keyof BudgetMatch, readonly string[]>> = {};
  if (budget.match !== undefined) {
    const matchRecord = expectRecord(budget.match, `${field}.match`);
    expectKnownKeys(matchRecord, `${field}.match`, ['provider', 'model', 'tenant', 'user', 'feature']);
    for (const key of ['provider', 'model', 'tenant', 'user', 'feature'] as const) {
      const values = expectStringOrList(matchRecord[key], `${field}.match.${key}`);
      if (values)
        match[key] =
          key === 'model' || key === 'provider' ? values.map((item) => item.toLowerCase()) : values;
    }
  }

  const alertAt = expectArray(budget.alertAt, `${field}.alertAt`).map(
    (threshold, index) =>
      optionalNumber(threshold, `${field}.alertAt[${index}]`, {
        min: 0,
        minInclusive: false,
        max: 10,
      }) as number,
  );
  return { id, limits, window, timeZone, per, match, alertAt: [...new Set(alertAt)].sort((a, b) => a - b) };
}

function normalizeWindow(value: unknown, field: string): BudgetWindow {
  if (typeof value === 'string') return expectOneOf(value, field, CALENDAR_WINDOWS);
  if (isRecord(value)) {
    expectKnownKeys(value, field, ['rollingMillis']);
    const rollingMillis = optionalNumber(value.rollingMillis, `${field}.rollingMillis`, {
      integer: true,
      min: 1000,
    });
    if (rollingMillis === undefined)
      throw new TollgateConfigError(`${field}.rollingMillis`, 'is required for a rolling window', value);
    return { rollingMillis };
  }
  throw new TollgateConfigError(
    field,
    `must be one of ${CALENDAR_WINDOWS.map((w) => `'${w}'`).join(', ')} or { rollingMillis }`,
    value,
  );
}
