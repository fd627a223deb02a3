import type { ScopeDimension } from '../scope/scope';
import type { BudgetMatch, BudgetWindow } from './budget-config';
import type { BudgetUnit } from './budget-units';

/** A budget after validation: what the plan turns into ledger lines. */
export interface NormalizedBudget {
  id: string;
  /** One entry per unit the budget limits; `limit` is in ledger units (nano-USD for `usd`). */
  limits: readonly { unit: BudgetUnit; limit: number }[];
  window: BudgetWindow;
  timeZone: string;
  per: readonly ScopeDimension[];
  match: Readonly<Partial<Record<keyof BudgetMatch, readonly string[]>>>;
  alertAt: readonly number[];
}
