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

/** Rewrite the request's model to a cheaper one (`'claude-opus-*'` matches by prefix); the call is reserved at the new price. */
export interface FallbackRule {
  id: string;
  when: FallbackTrigger;
  action: 'fallback';
  models: Readonly<Record<string, string>>;
}

/**
 * Acts before a budget runs out. Rules are checked in order at admission; the first that
 * applies decides.
 */
export type DegradationRule =
  | FallbackRule
  /** Hold back background calls (priority `'background'`) until the window resets; interactive calls proceed. */
  | { id: string; when: RuleTrigger; action: 'defer' }
  /** Refuse matching calls (e.g. one feature or tenant) so they cannot eat the rest of the budget. */
  | { id: string; when: RuleTrigger; action: 'reject'; match?: BudgetMatch };
