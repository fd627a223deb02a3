import type { ScopeValues } from '../scope/scope';
import { isBranded, TollgateError } from './tollgate-error';

/**
 * A degradation rule refused the call before its budget ran out: `reject` stops a scope,
 * `defer` holds back low-priority work until the window resets. The request was not sent.
 */
export class PolicyRejectedError extends TollgateError {
  static readonly code = 'TOLLGATE_POLICY_REJECTED';
  readonly ruleId: string;
  readonly action: 'reject' | 'defer';
  readonly budgetId: string;
  readonly budgetScope: ScopeValues;
  /** The budget's use, (spent + reserved) / limit, when the rule fired. */
  readonly usedRatio: number;
  /** When the budget's window resets (defer) — retry then. */
  readonly retryAfterMs: number;

  constructor(details: {
    ruleId: string;
    action: 'reject' | 'defer';
    budgetId: string;
    budgetScope: ScopeValues;
    usedRatio: number;
    retryAfterMs: number;
  }) {
    super(
      PolicyRejectedError.code,
      `Rule "${details.ruleId}" ${details.action === 'defer' ? 'deferred' : 'rejected'} the call: budget "${details.budgetId}" is ` +
        `${(details.usedRatio * 100).toFixed(1)}% used (estimate); retry after ${details.retryAfterMs} ms. The request was not sent.`,
    );
    this.ruleId = details.ruleId;
    this.action = details.action;
    this.budgetId = details.budgetId;
    this.budgetScope = details.budgetScope;
    this.usedRatio = details.usedRatio;
    this.retryAfterMs = details.retryAfterMs;
  }

  static override isInstance(value: unknown): value is PolicyRejectedError {
    return isBranded(value, PolicyRejectedError.code);
  }
}
