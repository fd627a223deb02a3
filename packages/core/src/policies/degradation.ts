import type { BudgetMatch } from '../budgets/budget-config';
import type { LineState } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import type { CallScope, ScopeValues } from '../scope/scope';
import type { DegradationRule } from './degradation-rule';

/** What the rules decided for one call. */
export type DegradationDecision =
  | { action: 'none' }
  | {
      action: 'fallback';
      rule: DegradationRule;
      toModel: string;
      usedRatio: number;
      budgetScope: ScopeValues;
    }
  | {
      action: 'reject' | 'defer';
      rule: DegradationRule;
      usedRatio: number;
      budgetScope: ScopeValues;
      resetAtMs: number;
    };

export interface RuleSubject {
  provider: string;
  /** Requested model and the price table's canonical name for it. */
  models: readonly string[];
  scope: Readonly<CallScope>;
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
      if (planned.budgetId !== rule.when.budget || !state || state.limit <= 0) return;
      const ratio = (state.spent + state.reserved) / state.limit;
      if (ratio > usedRatio) {
        usedRatio = ratio;
        budgetScope = planned.scope;
        resetAtMs = state.resetAtMs;
      }
    });
    if (usedRatio <= rule.when.usedAbove) continue;
    switch (rule.action) {
      case 'fallback': {
        const toModel = fallbackFor(rule.models, subject.models);
        if (toModel) return { action: 'fallback', rule, toModel, usedRatio, budgetScope };
        break;
      }
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
