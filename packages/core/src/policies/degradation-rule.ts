import type { BudgetMatch } from '../budgets/budget-config';

/** When a rule applies: the named budget's instance for the call is more than `usedAbove` used (spent + reserved). */
export interface RuleTrigger {
  budget: string;
  /** Fraction of the limit, e.g. 0.8. */
  usedAbove: number;
}

/**
 * Acts before a budget runs out. Rules are checked in order at admission; the first that
 * applies decides.
 */
export type DegradationRule =
  /** Rewrite the request's model to a cheaper one (`'claude-opus-*'` matches by prefix); the call is reserved at the new price. */
  | { id: string; when: RuleTrigger; action: 'fallback'; models: Readonly<Record<string, string>> }
  /** Hold back background calls (priority `'background'`) until the window resets; interactive calls proceed. */
  | { id: string; when: RuleTrigger; action: 'defer' }
  /** Refuse matching calls (e.g. one feature or tenant) so they cannot eat the rest of the budget. */
  | { id: string; when: RuleTrigger; action: 'reject'; match?: BudgetMatch };
