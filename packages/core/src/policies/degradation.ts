import type { BudgetMatch } from '../budgets/budget-config';
import type { LineState } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import type { SubstituteReach } from '../call/llm-call';
import type { CallScope, ScopeValues } from '../scope/scope';
import type { CheapestRule, DegradationRule, FallbackRule, RoutingRule } from './degradation-rule';
import type { RouteIds } from './route-target';

/** What the rules decided for one call. */
export type DegradationDecision =
  | { action: 'none' }
  | {
      action: 'fallback';
      rule: FallbackRule;
      toModel: string;
      /** The substitute's provider: the call's own unless the rule named another. */
      toProvider: string;
      /** What fired the rule: the budget's use, or the requested model's open circuit. */
      trigger: 'budget' | 'circuit-open';
      /** The budget's use, when the rule has a budget trigger and the call has a line in it. */
      usedRatio: number | undefined;
      budgetScope: ScopeValues;
    }
  | {
      action: 'cheapest';
      rule: CheapestRule;
      /** The listed models the call may go to, in list order, each with its provider. */
      candidates: readonly { provider: string; model: string }[];
    }
  | {
      action: 'reject' | 'defer';
      rule: Exclude<DegradationRule, RoutingRule>;
      usedRatio: number;
      budgetScope: ScopeValues;
      resetAtMs: number;
    };

export interface RuleSubject {
  provider: string;
  /** Requested model and the price table's canonical name for it. */
  models: readonly string[];
  scope: Readonly<CallScope>;
  /** The requested model's circuit refused the call; only a routing rule that handles an open circuit can still serve it. */
  circuitOpen?: boolean;
  /** Whether the call may go to another provider's model. */
  substitutes: SubstituteReach;
  /** Reads the rules' `provider:model` ids. */
  ids: RouteIds;
  /** The price table's name for a model (lower-cased when unpriced). */
  canonicalModel(model: string): string;
}

/** Finds the first rule whose trigger holds for this call, given the budget states the pre-check read. */
export function evaluateRules(
  rules: readonly DegradationRule[],
  subject: RuleSubject,
  lines: readonly PlannedLine[],
  states: readonly LineState[],
): DegradationDecision {
  for (const rule of rules) {
    let usedRatio = -1;
    let budgetScope: ScopeValues = {};
    let resetAtMs = 0;
    lines.forEach((planned, index) => {
      const state = states[index];
      if (rule.when?.budget === undefined || planned.budgetId !== rule.when.budget) return;
      if (!state || state.limit <= 0) return;
      const ratio = (state.spent + state.reserved) / state.limit;
      if (ratio > usedRatio) {
        usedRatio = ratio;
        budgetScope = planned.scope;
        resetAtMs = state.resetAtMs;
      }
    });
    const overBudget = rule.when?.usedAbove !== undefined && usedRatio > rule.when.usedAbove;
    if (rule.action === 'cheapest') {
      const byCircuit = subject.circuitOpen === true && rule.when?.circuitOpen === true;
      if (rule.when && !overBudget && !byCircuit) continue;
      const candidates = cheapestCandidates(rule, subject);
      if (candidates) return { action: 'cheapest', rule, candidates };
      continue;
    }
    if (rule.action === 'fallback') {
      const byCircuit = subject.circuitOpen === true && rule.when.circuitOpen === true;
      if (!overBudget && !byCircuit) continue;
      const target = fallbackTarget(rule, subject);
      if (!target) continue;
      return {
        action: 'fallback',
        rule,
        toModel: target.model,
        toProvider: target.provider,
        // The open circuit is named first: the requested model could not have served the call at all.
        trigger: byCircuit ? 'circuit-open' : 'budget',
        usedRatio: usedRatio >= 0 ? usedRatio : undefined,
        budgetScope,
      };
    }
    if (!overBudget || !rule.when) continue;
    switch (rule.action) {
      case 'defer':
        if (subject.scope.priority === 'background')
          return { action: 'defer', rule, usedRatio, budgetScope, resetAtMs };
        break;
      case 'reject':
        if (!rule.match || matches(rule.match, subject))
          return { action: 'reject', rule, usedRatio, budgetScope, resetAtMs };
        break;
    }
  }
  return { action: 'none' };
}

/**
 * What the reservation must stop for so the rules can decide first: per budget id, the lowest
 * use ratio above which some rule would act on this call (every other condition of the rule
 * holds for it), or `always` when a rule acts whatever the budgets' use (a `cheapest` rule
 * without a trigger): the guard then reads the states before reserving. A reservation that
 * stops at these ratios reads exactly the states `evaluateRules` needs, and reserves whenever
 * no rule could act.
 */
export function budgetTriggers(
  rules: readonly DegradationRule[],
  subject: RuleSubject,
): ReadonlyMap<string, number> | 'always' | undefined {
  let triggers: Map<string, number> | undefined;
  for (const rule of rules) {
    let acts: boolean;
    switch (rule.action) {
      case 'cheapest':
        acts = cheapestCandidates(rule, subject) !== undefined;
        if (acts && !rule.when) return 'always';
        break;
      case 'fallback':
        acts = fallbackTarget(rule, subject) !== undefined;
        break;
      case 'defer':
        acts = subject.scope.priority === 'background';
        break;
      case 'reject':
        acts = !rule.match || matches(rule.match, subject);
        break;
    }
    const budget = rule.when?.budget;
    const usedAbove = rule.when?.usedAbove;
    if (!acts || budget === undefined || usedAbove === undefined) continue;
    triggers ??= new Map();
    const known = triggers.get(budget);
    if (known === undefined || usedAbove < known) triggers.set(budget, usedAbove);
  }
  return triggers;
}

/**
 * Whether a routing rule can serve this call while the requested model's circuit is open, so
 * the circuit need not refuse it: a fallback with `circuitOpen` that maps the model, or a
 * `cheapest` rule that lists it and has no trigger or a `circuitOpen` one.
 */
export function routesAroundOpenCircuit(rules: readonly DegradationRule[], subject: RuleSubject): boolean {
  return rules.some((rule) => {
    if (rule.action === 'fallback')
      return rule.when.circuitOpen === true && fallbackTarget(rule, subject) !== undefined;
    if (rule.action === 'cheapest')
      return (
        (!rule.when || rule.when.circuitOpen === true) && cheapestCandidates(rule, subject) !== undefined
      );
    return false;
  });
}

/** A fallback rule's substitute for this call, or undefined when the rule maps none it may use. */
function fallbackTarget(
  rule: FallbackRule,
  subject: RuleSubject,
): { provider: string; model: string } | undefined {
  const to = fallbackFor(rule.models, subject.models, subject.provider, subject.ids);
  if (to === undefined) return undefined;
  const target = subject.ids.parse(to);
  const provider = target.provider ?? subject.provider;
  // A caller that can only talk to its own provider never gets another provider's model.
  if (!mayReach(subject, provider, target.model)) return undefined;
  return { provider, model: target.model };
}

/** The listed models this call may go to, or undefined when its own model is not in the list. */
function cheapestCandidates(
  rule: CheapestRule,
  subject: RuleSubject,
): { provider: string; model: string }[] | undefined {
  let listed = false;
  const candidates: { provider: string; model: string }[] = [];
  for (const id of rule.models) {
    const target = subject.ids.parse(id);
    const provider = target.provider ?? subject.provider;
    if (provider === subject.provider && isSameModel(target.model, subject)) listed = true;
    if (mayReach(subject, provider, target.model)) candidates.push({ provider, model: target.model });
  }
  return listed ? candidates : undefined;
}

/** Whether the caller can send this call to `provider`'s `model` (its own provider always). */
function mayReach(subject: RuleSubject, provider: string, model: string): boolean {
  if (provider === subject.provider) return true;
  const reach = subject.substitutes;
  return reach === 'any-provider' || (typeof reach === 'function' && reach(provider, model));
}

function isSameModel(model: string, subject: RuleSubject): boolean {
  const lower = model.toLowerCase();
  return subject.models.includes(lower) || subject.models.includes(subject.canonicalModel(model));
}

/** The replacement model: an exact key wins, then the longest `prefix*` key. */
export function fallbackFor(
  models: Readonly<Record<string, string>>,
  candidates: readonly string[],
  provider?: string,
  ids?: RouteIds,
): string | undefined {
  // Keys naming a provider (`openai:gpt-4o`) apply only to that provider's calls.
  const keys = Object.entries(models).flatMap(([key, to]): [string, string][] => {
    const target = ids?.parse(key);
    if (!target || target.provider === undefined) return [[key, to]];
    return target.provider === provider ? [[target.model.toLowerCase(), to]] : [];
  });
  for (const candidate of candidates) {
    const exact = keys.find(([key]) => key === candidate);
    if (exact) return exact[1];
  }
  let best: { prefix: string; to: string } | undefined;
  for (const [pattern, to] of keys) {
    if (!pattern.endsWith('*')) continue;
    const prefix = pattern.slice(0, -1);
    if (
      candidates.some((candidate) => candidate.startsWith(prefix)) &&
      (!best || prefix.length > best.prefix.length)
    ) {
      best = { prefix, to };
    }
  }
  return best?.to;
}

function matches(match: BudgetMatch, subject: RuleSubject): boolean {
  const values: Record<keyof BudgetMatch, readonly (string | undefined)[]> = {
    provider: [subject.provider],
    model: subject.models,
    tenant: [subject.scope.tenant],
    user: [subject.scope.user],
    feature: [subject.scope.feature],
  };
  return (Object.entries(match) as [keyof BudgetMatch, string | readonly string[] | undefined][]).every(
    ([dimension, allowed]) => {
      if (allowed === undefined) return true;
      const list = typeof allowed === 'string' ? [allowed] : allowed;
      return values[dimension].some((value) => value !== undefined && list.includes(value));
    },
  );
}
