import type { PlannedLine } from '../budgets/budget-plan';
import type { CallEstimate } from '../estimate/call-estimate';
import { budgetsTouched } from '../events/budgets-touched';
import type { BudgetTouched, CallDecisionBase, UsageSource } from '../events/decision-events';
import type { LimiterPermit } from '../limits/rate-limiter';
import type { CallFailure } from '../policies/circuit-breaker';
import type { TokenUsage } from '../pricing/token-usage';
import type { CallScope } from '../scope/scope';
import type { GuardRuntime } from './guard-runtime';
import type { Admission, Settlement } from './guard-types';
import type { AdmittedCall } from './open-call';
import { releaseCall } from './release-call';
import { settleCall } from './settle-call';

/** An admitted call: ends once, through `settle()` or `release()`; later calls return the first outcome. */
export class GuardAdmission implements Admission, AdmittedCall {
  readonly admittedAtMs = Date.now();
  private ended: Promise<Settlement> | undefined;

  constructor(
    private readonly runtime: GuardRuntime,
    readonly callId: string,
    readonly model: string,
    readonly requestedModel: string,
    readonly requestedProvider: string,
    readonly estimate: CallEstimate,
    readonly scope: Readonly<CallScope>,
    readonly base: CallDecisionBase,
    readonly lines: PlannedLine[],
    readonly permit: LimiterPermit,
    readonly minHeadroomRatio: number | undefined,
    readonly probe: boolean,
  ) {}

  get provider(): string {
    return this.base.provider;
  }

  get outputCapToSend(): number | undefined {
    return this.estimate.outputCapToSend;
  }

  get circuitModel(): string {
    return this.estimate.pricedModel ?? this.model.toLowerCase();
  }

  get budgets(): BudgetTouched[] {
    return budgetsTouched(this.lines);
  }

  get budgetIds(): string[] {
    const ids: string[] = [];
    // Lines of one budget are adjacent (one per unit), so comparing with the last id dedupes.
    for (const planned of this.lines)
      if (ids[ids.length - 1] !== planned.budgetId) ids.push(planned.budgetId);
    return ids;
  }

  get limiterKeys(): readonly string[] {
    return this.permit.limiterKeys;
  }

  get waitMillis(): number {
    return this.base.waitMillis;
  }

  settle(
    usage: TokenUsage | undefined,
    source: Exclude<UsageSource, 'reservation'> = 'provider',
    outcome: { failure?: CallFailure } = {},
  ): Promise<Settlement> {
    this.ended ??= settleCall(this.runtime, this, usage, source, outcome.failure);
    return this.ended;
  }

  countOutputTokens(text: string): number {
    return this.runtime.countText(this.model, text);
  }

  async release(reason: string, failure?: CallFailure): Promise<void> {
    this.ended ??= releaseCall(this.runtime, this, reason, failure);
    await this.ended;
  }

  expire(): void {
    this.permit.release();
  }
}
