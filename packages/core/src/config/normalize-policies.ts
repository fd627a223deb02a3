import { BUDGET_UNITS } from '../budgets/budget-units';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import { TollgateConfigError } from '../errors/config-error';
import type { DegradationRule, FallbackTrigger, RuleTrigger } from '../policies/degradation-rule';
import type { PriceTable } from '../pricing/price-table';
import {
  expectArray,
  expectKnownKeys,
  expectOneOf,
  expectRecord,
  expectString,
  expectStringOrList,
  optionalBoolean,
  optionalNumber,
} from './config-reader';
import type { FallbackPrice } from './guard-config';

/** Validates `policies` (degradation rules) against the configured budgets. */
export function normalizePolicies(value: unknown, budgets: readonly NormalizedBudget[]): DegradationRule[] {
  const ids = new Set<string>();
  return expectArray(value, 'policies').map((entry, index) => {
    const field = `policies[${index}]`;
    const rule = expectRecord(entry, field);
    expectKnownKeys(rule, field, ['id', 'when', 'action', 'models', 'match']);
    const id = expectString(rule.id, `${field}.id`);
    if (ids.has(id)) throw new TollgateConfigError(`${field}.id`, 'must be unique', id);
    ids.add(id);
    const when = expectRecord(rule.when, `${field}.when`);
    expectKnownKeys(when, `${field}.when`, ['budget', 'usedAbove', 'circuitOpen']);
    const action = expectOneOf(rule.action, `${field}.action`, ['fallback', 'defer', 'reject'] as const);
    const circuitOpen = optionalBoolean(when.circuitOpen, `${field}.when.circuitOpen`);
    if (circuitOpen !== undefined && action !== 'fallback')
      throw new TollgateConfigError(
        `${field}.when.circuitOpen`,
        `only applies to action 'fallback' (an open circuit already refuses the call)`,
        circuitOpen,
      );
    // A fallback may fire on the open circuit alone; every other trigger names a budget.
    const budgetTrigger =
      circuitOpen === true && when.budget === undefined && when.usedAbove === undefined
        ? undefined
        : readBudgetTrigger(when, `${field}.when`, budgets);
    if (action === 'fallback') {
      const models = expectRecord(rule.models, `${field}.models`);
      if (Object.keys(models).length === 0)
        throw new TollgateConfigError(
          `${field}.models`,
          'must map at least one model to a cheaper one',
          models,
        );
      const mapping: Record<string, string> = {};
      for (const [from, to] of Object.entries(models))
        mapping[from.toLowerCase()] = expectString(to, `${field}.models.${from}`);
      const trigger: FallbackTrigger = budgetTrigger
        ? { ...budgetTrigger, ...(circuitOpen !== undefined && { circuitOpen }) }
        : { circuitOpen: true };
      return { id, when: trigger, action, models: mapping };
    }
    // Only a fallback may leave the budget out, and it has returned above.
    const trigger = budgetTrigger!;
    if (rule.models !== undefined)
      throw new TollgateConfigError(`${field}.models`, `only applies to action 'fallback'`, rule.models);
    if (action === 'defer') {
      if (rule.match !== undefined)
        throw new TollgateConfigError(`${field}.match`, `only applies to action 'reject'`, rule.match);
      return { id, when: trigger, action };
    }
    if (rule.match === undefined) return { id, when: trigger, action };
    const match = expectRecord(rule.match, `${field}.match`);
    expectKnownKeys(match, `${field}.match`, ['provider', 'model', 'tenant', 'user', 'feature']);
    const normalizedMatch: Record<string, readonly string[]> = {};
    for (const key of ['provider', 'model', 'tenant', 'user', 'feature'] as const) {
      const values = expectStringOrList(match[key], `${field}.match.${key}`);
      if (values) normalizedMatch[key] = values;
    }
    return { id, when: trigger, action, match: normalizedMatch };
  });
}

/** Reads `{ budget, usedAbove }`: a configured budget's id and the fraction of its limit. */
function readBudgetTrigger(
  when: Record<string, unknown>,
  field: string,
  budgets: readonly NormalizedBudget[],
): RuleTrigger {
  const budget = expectString(when.budget, `${field}.budget`);
  if (!budgets.some((candidate) => candidate.id === budget)) {
    throw new TollgateConfigError(`${field}.budget`, 'names no configured budget', budget);
  }
  const usedAbove = optionalNumber(when.usedAbove, `${field}.usedAbove`, { min: 0, max: 10 });
  if (usedAbove === undefined)
    throw new TollgateConfigError(
      `${field}.usedAbove`,
      'is required (a fraction of the limit, e.g. 0.8)',
      when,
    );
  return { budget, usedAbove };
}

/**
 * A fallback rule fires when money is tight; a target with no price under a USD budget would
 * then refuse every call it rewrites (`UnknownModelPriceError`). Found now, not then.
 * Reads the rules as given (already validated), so the path keeps the model's own spelling.
 */
export function checkFallbackTargets(
  rules: unknown,
  budgets: readonly NormalizedBudget[],
  unknownModel: 'reject' | { fallback: FallbackPrice },
  prices: PriceTable,
): void {
  if (unknownModel !== 'reject') return;
  const pricedBudgets = budgets.filter((budget) =>
    budget.limits.some((limit) => BUDGET_UNITS[limit.unit].needsPrice),
  );
  if (pricedBudgets.length === 0) return;
  (expectArray(rules, 'policies') as readonly DegradationRule[]).forEach((rule, index) => {
    if (rule.action !== 'fallback') return;
    for (const [from, to] of Object.entries(rule.models)) {
      if (prices.resolve(to)) continue;
      const target = to.toLowerCase();
      const applying = pricedBudgets.filter(
        (budget) => !budget.match.model || budget.match.model.includes(target),
      );
      if (applying.length === 0) continue;
      throw new TollgateConfigError(
        `policies[${index}].models.${from}`,
        `names model "${to}", which has no price, while USD budget(s) ${applying.map((budget) => `"${budget.id}"`).join(', ')} ` +
          'apply: every call the rule rewrites would be refused. Fix the model name, add it under prices.overrides, ' +
          'or set unknownModel: { fallback }',
        to,
      );
    }
  });
}
