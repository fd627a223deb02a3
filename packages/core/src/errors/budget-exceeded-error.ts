import { BUDGET_UNITS, type BudgetUnit } from '../budgets/budget-units';
import type { ScopeValues } from '../scope/scope';
import { isBranded, TollgateError } from './tollgate-error';

/** What a budget looked like at the moment it refused a call. */
export interface BudgetExceededDetails {
  budgetId: string;
  /** The scope values that picked the budget instance (e.g. `{ tenant: 'acme' }`); empty for a global budget. */
  scope: ScopeValues;
  unit: BudgetUnit;
  /** The budget's limit in `unit` (USD figures are estimates). */
  limit: number;
  /** Already settled in the current window. */
  spent: number;
  /** Held by calls in flight. */
  reserved: number;
  /** What this call asked to reserve (its worst case). */
  requested: number;
  /** When the window that refused the call ends (epoch ms); for rolling windows, the earliest time headroom returns. */
  resetAtMs: number;
  /**
   * How the call could reserve less, e.g. "set max_completion_tokens on the request …",
   * when its output reservation is what made it too big. Appended to the message.
   */
  advice?: string | undefined;
}

/**
 * The call's worst-case cost does not fit in a budget; the request was never sent.
 *
 * @example
 * ```ts
 * try { await client.chat.completions.create(params) }
 * catch (err) { if (BudgetExceededError.isInstance(err)) scheduleLater(err.resetAtMs) }
 * ```
 */
export class BudgetExceededError extends TollgateError implements BudgetExceededDetails {
  static readonly code = 'TOLLGATE_BUDGET_EXCEEDED';
  readonly budgetId: string;
  readonly scope: ScopeValues;
  readonly unit: BudgetUnit;
  readonly limit: number;
  readonly spent: number;
  readonly reserved: number;
  readonly requested: number;
  readonly resetAtMs: number;
  readonly advice: string | undefined;
  /** Milliseconds until `resetAtMs`, never negative. */
  readonly retryAfterMs: number;

  constructor(details: BudgetExceededDetails, nowMs: number = Date.now()) {
    const label = BUDGET_UNITS[details.unit]?.label ?? details.unit;
    super(
      BudgetExceededError.code,
      `Budget "${details.budgetId}"${describeScope(details.scope)} would be exceeded: ` +
        `requested ${format(details.requested)} ${label}, limit ${format(details.limit)}, ` +
        `spent ${format(details.spent)}, reserved ${format(details.reserved)}; ` +
        `resets at ${new Date(details.resetAtMs).toISOString()}. The request was not sent.` +
        (details.advice ? ` ${details.advice}` : ''),
    );
    this.budgetId = details.budgetId;
    this.scope = details.scope;
    this.unit = details.unit;
    this.limit = details.limit;
    this.spent = details.spent;
    this.reserved = details.reserved;
    this.requested = details.requested;
    this.resetAtMs = details.resetAtMs;
    this.advice = details.advice;
    this.retryAfterMs = Math.max(0, details.resetAtMs - nowMs);
  }

  static override isInstance(value: unknown): value is BudgetExceededError {
    return isBranded(value, BudgetExceededError.code);
  }
}

function describeScope(scope: ScopeValues): string {
  const parts = Object.entries(scope).map(([key, value]) => `${key}=${value}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, '');
}
