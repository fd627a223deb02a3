import type { BudgetMatch } from '../budgets/budget-config';

/** When a rule applies: the named budget's instance for the call is more than `usedAbove` used (spent + reserved). */
export interface RuleTrigger {
  budget: string;
  /** Fraction of the limit, e.g. 0.8. */
  usedAbove: number;
}

/**
 * When a fallback applies: a budget trigger, the requested model's circuit being open, or
 * either of the two (`{ budget, usedAbove, circuitOpen: true }`).
 */
export type FallbackTrigger =
  | (RuleTrigger & {
      /** Also fire when the requested model's circuit is open, instead of refusing the call. @default false */
      circuitOpen?: boolean;
    })
  | { circuitOpen: true; budget?: undefined; usedAbove?: undefined };

/**
 * Rewrite the request's model to a substitute (`'claude-opus-*'` matches by prefix); the call
 * is reserved at the substitute's price. A key or target may name its provider
 * (`'openai:gpt-4o'`, `'anthropic:claude-haiku-4-5'`); a target on another provider applies
 * only to calls that declare `substitutes: 'any-provider'`.
 */
export interface FallbackRule {
  id: string;
  when: FallbackTrigger;
  action: 'fallback';
  models: Readonly<Record<string, string>>;
}

/**
 * Among equivalent models, send the call to the one with the lowest estimated worst-case
 * cost whose circuit is not open and whose budgets have room; ties go to the earlier entry.
 * Applies to calls whose model is in the list (and, with `when`, only while it holds).
 * Entries may name their provider (`'anthropic:claude-haiku-4-5'`); another provider's
 * entries are candidates only for calls that declare `substitutes: 'any-provider'`.
 */
export interface CheapestRule {
  id: string;
  action: 'cheapest';
  models: readonly string[];
  /** Apply only while this holds. @default always */
  when?: FallbackTrigger;
}

/** The rules that choose which model serves a call. */
export type RoutingRule = FallbackRule | CheapestRule;

/**
 * Acts before a budget runs out. Rules are checked in order at admission; the first that
 * applies decides.
 */
export type DegradationRule =
  | RoutingRule
  /** Hold back background calls (priority `'background'`) until the window resets; interactive calls proceed. */
  | { id: string; when: RuleTrigger; action: 'defer' }
  /** Refuse matching calls (e.g. one feature or tenant) so they cannot eat the rest of the budget. */
  | { id: string; when: RuleTrigger; action: 'reject'; match?: BudgetMatch };
