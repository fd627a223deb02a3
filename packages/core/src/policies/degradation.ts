import type { BudgetMatch } from '../budgets/budget-config';
import type { LineState } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import type { CallScope, ScopeValues } from '../scope/scope';
import type { DegradationRule, FallbackRule } from './degradation-rule';

/** What the rules decided for one call. */
export type DegradationDecision =
  | { action: 'none' }
  | {
      action: 'fallback';
      rule: FallbackRule;
      toModel: string;
      /** What fired the rule: the budget's use, or the requested model's open circuit. */
      trigger: 'budget' | 'circuit-open';
      /** The budget's use, when the rule has a budget trigger and the call has a line in it. */
      usedRatio: number | undefined;
      budgetScope: ScopeValues;
    }
  | {
      action: 'reject' | 'defer';
      rule: Exclude<DegradationRule, FallbackRule>;
      usedRatio: number;
      budgetScope: ScopeValues;
      resetAtMs: number;
    };

export interface RuleSubject {
  provider: string;
  /** Requested model and the price table's canonical name for it. */
  models: readonly string[];
  scope: Readonly<CallScope>;
  /** The requested model's circuit refused the call; only a fallback rule with `circuitOpen` can still serve it. */
  circuitOpen?: boolean;
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
      if (rule.when.budget === undefined || planned.budgetId !== rule.when.budget) return;
      if (!state || state.limit <= 0) return;
      const ratio = (state.spent + state.reserved) / state.limit;
      if (ratio > usedRatio) {
        usedRatio = ratio;
        budgetScope = planned.scope;
        resetAtMs = state.resetAtMs;
      }
    });
    const overBudget = rule.when.usedAbove !== undefined && usedRatio > rule.when.usedAbove;
    if (rule.action === 'fallback') {
      const byCircuit = subject.circuitOpen === true && rule.when.circuitOpen === true;
      if (!overBudget && !byCircuit) continue;
      const toModel = fallbackFor(rule.models, subject.models);
      if (!toModel) continue;
      return {
        action: 'fallback',
        rule,
        toModel,
        // The open circuit is named first: the requested model could not have served the call at all.
        trigger: byCircuit ? 'circuit-open' : 'budget',
        usedRatio: usedRatio >= 0 ? usedRatio : undefined,
        budgetScope,
      };
    }
    if (!overBudget) continue;
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
 * Per budget id, the lowest use ratio above which some rule would act on this call (every
 * other condition of the rule holds for it). A reservation that stops at these ratios reads
 * exactly the states `evaluateRules` needs, and reserves whenever no rule could act.
 */
export function budgetTriggers(
  rules: readonly DegradationRule[],
  subject: RuleSubject,
): ReadonlyMap<string, number> | undefined {
  let triggers: Map<string, number> | undefined;
  for (const rule of rules) {
    const { budget, usedAbove } = rule.when;
    if (budget === undefined || usedAbove === undefined) continue;
    let acts: boolean;
    switch (rule.action) {
      case 'fallback':
        acts = fallbackFor(rule.models, subject.models) !== undefined;
        break;
      case 'defer':
        acts = subject.scope.priority === 'background';
        break;
      case 'reject':
        acts = !rule.match || matches(rule.match, subject);
        break;
    }
    if (!acts) continue;
    triggers ??= new Map();
    const known = triggers.get(budget);
    if (known === undefined || usedAbove < known) triggers.set(budget, usedAbove);
  }
  return triggers;
}

/** Whether a fallback rule with `circuitOpen` maps one of these models, so an open circuit need not refuse the call. */
export function hasCircuitFallback(rules: readonly DegradationRule[], models: readonly string[]): boolean {
  return rules.some(
    (rule) =>
      rule.action === 'fallback' &&
      rule.when.circuitOpen === true &&
      fallbackFor(rule.models, models) !== undefined,
  );
}

/** The replacement model: an exact key wins, then the longest `prefix*` key. */
export function fallbackFor(
  models: Readonly<Record<string, string>>,
  candidates: readonly string[],
): string | undefined {
  for (const candidate of candidates) {
    const exact = models[candidate];
    if (exact !== undefined) return exact;
  }
  let best: { prefix: string; to: string } | undefined;
  for (const [pattern, to] of Object.entries(models)) {
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
