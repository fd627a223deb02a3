import { BUDGET_UNITS } from '../budgets/budget-units';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import { TollgateConfigError } from '../errors/config-error';
import type { DegradationRule, FallbackTrigger, RuleTrigger } from '../policies/degradation-rule';
import { RouteIds } from '../policies/route-target';
import type { PriceTable } from '../pricing/price-table';
import type { PriceLookup } from '../pricing/provider-prices';
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
import type { ConfiguredProviders } from './configured-providers';
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
    // Only a cheapest rule may leave `when` out; the others are checked once the action is known.
    const when = rule.when === undefined ? undefined : expectRecord(rule.when, `${field}.when`);
    if (when) expectKnownKeys(when, `${field}.when`, ['budget', 'usedAbove', 'circuitOpen']);
    const action = expectOneOf(rule.action, `${field}.action`, [
      'fallback',
      'cheapest',
      'defer',
      'reject',
    ] as const);
    const circuitOpen = optionalBoolean(when?.circuitOpen, `${field}.when.circuitOpen`);
    if (circuitOpen !== undefined && action !== 'fallback' && action !== 'cheapest')
      throw new TollgateConfigError(
        `${field}.when.circuitOpen`,
        `only applies to actions 'fallback' and 'cheapest' (an open circuit already refuses the call)`,
        circuitOpen,
      );
    // A routing rule may fire on the open circuit alone (a cheapest rule even on nothing);
    // every other trigger names a budget.
    const budgetTrigger =
      when === undefined ||
      (circuitOpen === true && when.budget === undefined && when.usedAbove === undefined)
        ? undefined
        : readBudgetTrigger(when, `${field}.when`, budgets);
    const routingTrigger: FallbackTrigger | undefined = budgetTrigger
      ? { ...budgetTrigger, ...(circuitOpen !== undefined && { circuitOpen }) }
      : circuitOpen === true
        ? { circuitOpen: true }
        : undefined;
    if (action === 'cheapest') {
      if (rule.match !== undefined)
        throw new TollgateConfigError(`${field}.match`, `only applies to action 'reject'`, rule.match);
      const models = readModelList(rule.models, `${field}.models`);
      return { id, action, models, ...(routingTrigger && { when: routingTrigger }) };
    }
    if (!when) throw new TollgateConfigError(`${field}.when`, 'is required', rule.when);
    if (action === 'fallback') {
      if (rule.match !== undefined)
        throw new TollgateConfigError(`${field}.match`, `only applies to action 'reject'`, rule.match);
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
      return { id, when: routingTrigger!, action, models: mapping };
    }
    // Only a fallback may leave the budget out, and it has returned above.
    const trigger = budgetTrigger!;
    if (rule.models !== undefined)
      throw new TollgateConfigError(
        `${field}.models`,
        `only applies to actions 'fallback' and 'cheapest'`,
        rule.models,
      );
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

/** A cheapest rule's list: at least two model ids, none twice. */
function readModelList(value: unknown, field: string): string[] {
  const list = expectArray(value, field);
  if (list.length < 2)
    throw new TollgateConfigError(field, 'must list at least two equivalent models to choose from', value);
  const seen = new Set<string>();
  return list.map((entry, index) => {
    const id = expectString(entry, `${field}[${index}]`);
    if (seen.has(id.toLowerCase()))
      throw new TollgateConfigError(`${field}[${index}]`, 'is listed twice', id);
    seen.add(id.toLowerCase());
    return id;
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
 * Checks routing rules' model ids against the price table, once it is loaded. A `provider:model`
 * id whose provider Tollgate does not know, while the model part is one the table prices, is a
 * misspelt provider. And a routing rule fires when money is tight: a target with no price under
 * a USD budget would then refuse every call it sends there (`UnknownModelPriceError`). Both are
 * found now, not then. Reads the rules as given (already validated), so paths keep the ids' own spelling.
 */
export function checkFallbackTargets(
  rules: unknown,
  budgets: readonly NormalizedBudget[],
  unknownModel: 'reject' | { fallback: FallbackPrice },
  prices: PriceTable,
  providers: ConfiguredProviders,
): void {
  const ids = new RouteIds(
    prices,
    providers.entries.map((entry) => entry.name),
  );
  // A configured server's models are priced by its own figures, when it has any.
  const pricesOf = (provider: string | undefined): PriceLookup =>
    (provider === undefined ? undefined : providers.pricesOf(provider)) ?? prices;
  const pricedBudgets =
    unknownModel !== 'reject'
      ? []
      : budgets.filter((budget) => budget.limits.some((limit) => BUDGET_UNITS[limit.unit].needsPrice));
  (expectArray(rules, 'policies') as readonly DegradationRule[]).forEach((rule, index) => {
    const targets: [path: string, id: string][] =
      rule.action === 'fallback'
        ? Object.entries(rule.models).flatMap(([from, to]): [string, string][] => [
            [`policies[${index}].models`, from],
            [`policies[${index}].models.${from}`, to],
          ])
        : rule.action === 'cheapest'
          ? rule.models.map((id, at) => [`policies[${index}].models[${at}]`, id])
          : [];
    for (const [path, id] of targets) checkProvider(id, path, ids, prices);
    // Keys of a fallback map are sources, not targets: only what a rule sends calls to needs a price.
    for (const [path, id] of targets) {
      if (path.endsWith('.models') || pricedBudgets.length === 0) continue;
      checkPriced(id, path, ids, pricesOf, pricedBudgets);
    }
  });
}

function checkProvider(id: string, path: string, ids: RouteIds, prices: PriceTable): void {
  const target = ids.parse(id);
  if (target.model === '')
    throw new TollgateConfigError(
      path,
      `names provider "${target.provider}" but no model after the colon`,
      id,
    );
  const colon = id.indexOf(':');
  if (target.provider !== undefined || colon <= 0 || prices.resolve(id)) return;
  if (!prices.resolve(id.slice(colon + 1).trim())) return;
  throw new TollgateConfigError(
    path,
    `names provider "${id.slice(0, colon)}", which Tollgate does not know (known: ${[...ids.providers].join(', ')}). ` +
      'Write a known provider before the colon, or leave it out for the calling provider',
    id,
  );
}

function checkPriced(
  id: string,
  path: string,
  ids: RouteIds,
  pricesOf: (provider: string | undefined) => PriceLookup,
  pricedBudgets: readonly NormalizedBudget[],
): void {
  const target = ids.parse(id);
  if (pricesOf(target.provider).resolve(target.model)) return;
  const model = target.model.toLowerCase();
  const applying = pricedBudgets.filter(
    (budget) =>
      (!budget.match.model || budget.match.model.includes(model)) &&
      (!budget.match.provider ||
        target.provider === undefined ||
        budget.match.provider.includes(target.provider)),
  );
  if (applying.length === 0) return;
  throw new TollgateConfigError(
    path,
    `names model "${target.model}", which has no price, while USD budget(s) ${applying.map((budget) => `"${budget.id}"`).join(', ')} ` +
      'apply: every call the rule sends there would be refused. Fix the model name, add it under prices.overrides, ' +
      'or set unknownModel: { fallback }',
    id,
  );
}
