import { diag } from '@opentelemetry/api';
import { BudgetInstances } from '../budgets/budget-instances';
import type { BudgetLedger, ReserveRequest, ReserveResult, SettleResult } from '../budgets/budget-ledger';
import { BudgetPlan } from '../budgets/budget-plan';
import { MemoryLedger } from '../budgets/memory-ledger';
import type { NormalizedGuardConfig } from '../config/normalize-guard-config';
import type { EstimateSettings } from '../estimate/call-estimate';
import { DecisionEmitter } from '../events/decision-emitter';
import type { LimiterUpdateFailure } from '../limits/limiter-update-failure';
import { RateLimiter } from '../limits/rate-limiter';
import { CircuitBreakers } from '../policies/circuit-breaker';
import { LoopDetector } from '../policies/loop-detector';
import { RouteIds } from '../policies/route-target';
import type { PriceTable } from '../pricing/price-table';
import type { PriceLookup } from '../pricing/provider-prices';
import { countTextTokens } from '../tokens/count-text-tokens';
import type { TokenEstimatorOptions } from '../tokens/token-estimator-options';
import type { AdmittedCall } from './open-call';

/** How long after its lease a call whose settlement failed stays known, for the `lease-expired` event to name it. */
const LEASE_REPORT_GRACE_MILLIS = 60_000;

/**
 * What the guard's steps share: the validated configuration, the stores, the limiter, the
 * circuit breakers, the event emitter and the calls still open. Admission, settlement, release
 * and lease expiry are functions of it.
 */
export class GuardRuntime {
  readonly prices: PriceTable;
  readonly ledger: BudgetLedger;
  /** The guard's own in-memory ledger, when none was configured. */
  private readonly ownLedger: MemoryLedger | undefined;
  readonly limiter: RateLimiter;
  readonly plan: BudgetPlan;
  readonly events: DecisionEmitter;
  readonly breakers: CircuitBreakers;
  /** Reads routing rules' `provider:model` ids against the providers this guard knows. */
  readonly routeIds: RouteIds;
  /** A `cheapest` rule weighs every call it lists, budgets or not. */
  readonly hasCheapestRule: boolean;
  readonly loops: LoopDetector;
  readonly instances = new BudgetInstances();
  /** Admitted calls whose reservation has not ended yet, by call id. */
  readonly openCalls = new Map<string, AdmittedCall>();
  /** Counters whose exhaustion this process already reported, until their window resets. */
  readonly exhaustionNoted = new Map<string, number>();

  constructor(readonly config: NormalizedGuardConfig) {
    this.prices = config.prices;
    this.routeIds = new RouteIds(
      config.prices,
      config.providers.entries.map((entry) => entry.name),
    );
    this.hasCheapestRule = config.policies.some((rule) => rule.action === 'cheapest');
    if (config.ledger) {
      this.ledger = config.ledger;
      this.ownLedger = undefined;
    } else {
      this.ownLedger = new MemoryLedger({ leaseExpiry: config.leaseExpiry });
      this.ledger = this.ownLedger;
    }
    this.limiter = new RateLimiter(config.rateLimits, config.limiter, (failure) =>
      this.reportLimiterUpdateFailure(failure),
    );
    this.plan = new BudgetPlan(config.budgets);
    this.events = new DecisionEmitter(config.hooks);
    this.loops = new LoopDetector(config.loops);
    this.breakers = new CircuitBreakers(config.circuitBreakers, (transition) =>
      this.events.emit({ type: 'circuit-state', timestampMs: Date.now(), ...transition }),
    );
  }

  /**
   * The priced name of a model, as admission keys it: from the provider's own prices when it is
   * a configured server, else the price table; the model lower-cased when it has no price.
   */
  /**
   * The reservation, answered at once when the ledger is the guard's own (no promise hop on the
   * call's path); undefined when a configured ledger must be awaited instead.
   */
  reserveNow(request: ReserveRequest): ReserveResult | undefined {
    return this.ownLedger?.reserveNow(request);
  }

  /** The settlement, answered at once by the guard's own ledger; undefined for a configured one. */
  settleNow(reservationId: string, actualAmounts: readonly number[]): SettleResult | undefined {
    return this.ownLedger?.settleNow(reservationId, actualAmounts);
  }

  canonicalModel(model: string, provider?: string): string {
    const prices = provider === undefined ? this.prices : this.pricesFor(provider);
    return prices.resolve(model)?.model ?? model.toLowerCase();
  }

  /** What a call of `provider` is estimated with: its prices and the guard's estimate settings. */
  estimateSettings(provider: string): EstimateSettings {
    const { config } = this;
    return {
      prices: this.pricesFor(provider),
      defaultMaxOutputTokens: config.defaultMaxOutputTokens,
      unknownModel: config.unknownModel,
      estimator: config.estimator,
    };
  }

  /** The prices a provider's calls are charged: a configured server's own, else the price table. */
  pricesFor(provider: string): PriceLookup {
    return this.config.providers.pricesOf(provider) ?? this.prices;
  }

  /**
   * Counts output text whose usage the provider never reported, with the guard's estimator
   * options. The count is charged, not reserved, so it waits for the tokenizer rather than
   * charge the byte bound; by the time a stream has ended the warm-up has usually finished.
   */
  countText(model: string, text: string): number {
    this.outputCountOptions ??= { ...this.config.estimator, waitForTokenizer: true };
    return countTextTokens(model, text, this.outputCountOptions);
  }

  private outputCountOptions: TokenEstimatorOptions | undefined;

  /** Ends a call's stay in `openCalls` and frees its limiter slot; returns whether it was still open. */
  closeOpenCall(admission: AdmittedCall): boolean {
    const wasOpen = this.openCalls.delete(admission.callId);
    admission.permit.release();
    return wasOpen;
  }

  /**
   * Keeps a call whose reservation the ledger failed to end known until its lease has
   * certainly passed, so the `lease-expired` event names it; a retried settlement never
   * reports back here, and an outage must not grow the map for good.
   */
  keepOpenUntilLeaseEnds(admission: AdmittedCall): void {
    const { callId } = admission;
    this.openCalls.set(callId, admission);
    setTimeout(
      () => this.openCalls.delete(callId),
      this.config.leaseMillis + LEASE_REPORT_GRACE_MILLIS,
    ).unref();
  }

  /** A bucket update the limiter could not apply: a `diag` warning and a `limiter-update-failed` event. */
  private reportLimiterUpdateFailure(failure: LimiterUpdateFailure): void {
    const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
    const consequence =
      failure.operation === 'shrink'
        ? 'it may admit more than the provider allows until it refills'
        : 'it holds less than it should until it refills';
    diag.warn(
      `tollgate: rate limiter "${failure.limiterKey}" (${failure.bucket}) could not ${failure.operation} ` +
        `${failure.weight}: ${message}; ${consequence}`,
    );
    this.events.emit({ type: 'limiter-update-failed', timestampMs: Date.now(), ...failure });
  }
}
