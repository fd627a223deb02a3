import { randomUUID } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import { WebhookNotifier } from '../alerts/webhook-notifier';
import { type BudgetInstanceState, BudgetInstances, minHeadroomRatio } from '../budgets/budget-instances';
import type { BudgetLedger, ExpiredReservation, ThresholdCrossing } from '../budgets/budget-ledger';
import { BudgetPlan, type BudgetSubject, type PlannedLine, windowsStillOpen } from '../budgets/budget-plan';
import { type LedgerAmounts, ledgerAmount, NANO_USD_PER_USD, toDisplayUnits } from '../budgets/budget-units';
import { parseCounterKey } from '../budgets/counter-key';
import { MemoryLedger } from '../budgets/memory-ledger';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import type { LlmCallDescriptor } from '../call/llm-call';
import type { GuardConfig } from '../config/guard-config';
import { type NormalizedGuardConfig, normalizeGuardConfig } from '../config/normalize-guard-config';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { TollgateConfigError } from '../errors/config-error';
import { PolicyRejectedError } from '../errors/policy-rejected-error';
import { RateLimitedError } from '../errors/rate-limited-error';
import { UnboundedOutputError } from '../errors/unbounded-output-error';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import { budgetsTouched as touched } from '../events/budgets-touched';
import { DecisionEmitter } from '../events/decision-emitter';
import type {
  BudgetTouched,
  CallDecisionBase,
  DecisionHook,
  DecisionType,
  UsageSource,
} from '../events/decision-events';
import { abortReason } from '../limits/bounded-wait';
import type { LimiterUpdateFailure } from '../limits/limiter-update-failure';
import type { ProviderFeedback } from '../limits/provider-feedback';
import { type LimiterPermit, RateLimiter } from '../limits/rate-limiter';
import { type CallFailure, CircuitBreakers, type CircuitStatus } from '../policies/circuit-breaker';
import { classifyFailure } from '../policies/classify-failure';
import { evaluateRules } from '../policies/degradation';
import { normalizeUsage } from '../pricing/normalize-usage';
import type { PriceTable } from '../pricing/price-table';
import type { TokenUsage } from '../pricing/token-usage';
import type { CallPriority, CallScope, ScopeDimension } from '../scope/scope';
import { currentScope, mergeScopes } from '../scope/with-scope';
import { countTextTokens, outputCapField } from '../tokens/estimate-input-tokens';
import { actualCostUsd, type CallEstimate, estimateCall, usageOrWorstCase } from './call-estimate';

/** Per-call options; they override the ambient `withScope()` scope field by field. */
export interface CallOptions {
  scope?: CallScope;
  /** Shorthand for `scope.priority`. */
  priority?: CallPriority;
  /**
   * Abandons the call: aborted before or while it waits for rate-limit capacity, `admit()`
   * rejects at once with the signal's reason, leaves the queue and reserves nothing.
   */
  signal?: AbortSignal;
}

/** The outcome of settling a call. */
export interface Settlement {
  usageSource: UsageSource;
  /** Cost of the actual usage at list price (an estimate); undefined for an unpriced model. */
  actualCostUsd: number | undefined;
  /** `actualCostUsd − estimatedCostUsd`. */
  costDeltaUsd: number | undefined;
  /**
   * False when the reservation had already ended (lease expired, or settled before), or when
   * the ledger failed to settle it: a `settle-failed` event then reports it, and the
   * reservation stays held until its lease expires under the ledger's expiry policy.
   */
  applied: boolean;
  /** Least headroom left over the budgets the call touched, as a fraction of the limit; undefined without budgets. */
  minHeadroomRatio: number | undefined;
}

/** An admitted call. End it exactly once with `settle()` or `release()`; repeats are harmless no-ops. */
export interface Admission {
  readonly callId: string;
  /** The model to send: the requested one, or its cheaper replacement when a fallback rule applied. */
  readonly model: string;
  /** The model the caller asked for. */
  readonly requestedModel: string;
  readonly estimate: Readonly<CallEstimate>;
  /**
   * The output cap the request must carry for the reservation to bound it: the guard's
   * `defaultMaxOutputTokens`, when the request sets no cap of its own; otherwise undefined.
   * The instrumentations send it; with `admit()`/`run()`, write it into the body with
   * `withOutputCap(call, body, admission.outputCapToSend)`.
   */
  readonly outputCapToSend: number | undefined;
  readonly scope: Readonly<CallScope>;
  readonly waitMillis: number;
  /** Budget instances the call reserved against. */
  readonly budgets: readonly BudgetTouched[];
  /** Ids of the budgets the call reserved against, each once, in configuration order. */
  readonly budgetIds: readonly string[];
  /** Limiters that admitted the call. */
  readonly limiterKeys: readonly string[];
  /** Least headroom left after the reservation, as a fraction of the limit; undefined without budgets. */
  readonly minHeadroomRatio: number | undefined;
  /**
   * Charges the call's actual usage and frees the rest of its reservation. Unknown counts
   * (`undefined`) are charged at their pre-call worst case; counts that are not finite,
   * non-negative integers are normalised first (see `normalizeUsage`). Never rejects: a ledger
   * failure is reported as a `settle-failed` event and `applied: false`.
   */
  settle(
    usage: TokenUsage | undefined,
    source?: Exclude<UsageSource, 'reservation'>,
    outcome?: { failure?: CallFailure },
  ): Promise<Settlement>;
  /**
   * Counts text the call produced (e.g. a stream cut short before the provider reported usage)
   * with the model's tokenizer and the guard's `estimator` options — an estimate.
   */
  countOutputTokens(text: string): number;
  /** Frees the whole reservation: the provider did no billable work (e.g. the connection was refused). */
  release(reason: string, failure?: CallFailure): Promise<void>;
}

export interface RunOptions<T> extends CallOptions {
  /** Reads usage from the call's result; return undefined when the provider reported none. */
  usage?: (result: T) => TokenUsage | undefined;
}

/** The gate: decides whether a call may go out, and settles its cost when it is done. */
export interface Guard {
  /**
   * Admits a call or throws `BudgetExceededError`, `RateLimitedError` or
   * `UnknownModelPriceError` — always before the request exists.
   */
  admit(call: LlmCallDescriptor, options?: CallOptions): Promise<Admission>;
  /**
   * Admits, runs `fn`, and settles from `options.usage(result)`; if `fn` throws, the
   * reservation is released and the error rethrown.
   */
  run<T>(
    call: LlmCallDescriptor,
    fn: (admission: Admission) => Promise<T>,
    options?: RunOptions<T>,
  ): Promise<T>;
  /** Folds rate-limit headers or a 429 `retry-after` from the provider into the local limiter. */
  applyProviderFeedback(feedback: ProviderFeedback): void;
  /**
   * Adds a decision hook, for every event or only the given `types` (events of other types
   * are then not even built for it); returns a function that removes it.
   */
  onDecision(hook: DecisionHook, types?: readonly DecisionType[]): () => void;
  /** Current spend of one budget instance (USD figures are estimates). */
  budgetStatus(
    budgetId: string,
    scope?: CallScope & { provider?: string; model?: string },
  ): Promise<BudgetStatus[]>;
  /** Latest known state of every budget instance this process has used (for gauges). */
  budgetInstances(): BudgetInstanceState[];
  /**
   * Scope dimensions that budgets or rate limits are split by. Metrics label calls with these
   * only, so cardinality stays what the configuration already implies.
   */
  readonly splitDimensions: readonly ScopeDimension[];
  /** Operator controls and state of the circuit breakers. */
  readonly circuits: {
    /** Opens a circuit by hand; it stays open until `close()`. */
    open(provider: string, model: string): void;
    close(provider: string, model: string): void;
    states(): CircuitStatus[];
  };
  /** The price table in use, overrides applied. */
  readonly prices: PriceTable;
  /** Stops timers and closes the limiter and ledger. */
  close(): Promise<void>;
}

export interface BudgetStatus {
  budgetId: string;
  unit: 'usd' | 'tokens' | 'requests';
  limit: number;
  spent: number;
  reserved: number;
  resetAtMs: number;
}

/** A call is reported as `throttled` when it queued at least this long for rate-limit capacity. */
const THROTTLE_REPORT_MILLIS = 20;
/** How long after its lease a call whose settlement failed stays known, for the `lease-expired` event to name it. */
const LEASE_REPORT_GRACE_MILLIS = 60_000;
/** Counters whose exhaustion is remembered at once; past this, the expired ones are dropped. */
const MAX_EXHAUSTION_NOTES = 1_000;

interface PlannedCall {
  estimate: CallEstimate;
  /** The output-cap field of the request's shape, for advice in refusals. */
  capField: string | undefined;
  base: CallDecisionBase;
  subject: BudgetSubject;
  budgets: NormalizedBudget[];
  amounts: LedgerAmounts;
}

interface OpenCall {
  admission: GuardAdmission;
  lines: PlannedLine[];
}

/**
 * Creates the gate. Validates `config` first and throws `TollgateConfigError` naming the
 * offending field.
 *
 * Order of checks for each call, and why:
 * 1. attribution and estimate — pure and local;
 * 2. budget pre-check — an exhausted budget rejects without taking rate-limit capacity;
 * 3. rate-limit wait — no budget is held while the call queues;
 * 4. atomic reservation across every applicable budget — all or nothing;
 * 5. the call runs; settle or release ends the reservation.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   budgets: [{ id: 'daily', limit: { usd: 25 }, window: 'day', alertAt: [0.5, 0.8, 1] }],
 *   rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 500, tpm: 200_000 }],
 * });
 * ```
 */
export function createGuard(config: GuardConfig = {}): Guard {
  return new GuardImpl(config);
}

class GuardImpl implements Guard {
  readonly prices: PriceTable;
  private readonly config: NormalizedGuardConfig;
  private readonly ledger: BudgetLedger;
  private readonly limiter: RateLimiter;
  private readonly plan: BudgetPlan;
  private readonly events: DecisionEmitter;
  private readonly openCalls = new Map<string, OpenCall>();
  /** Counters whose exhaustion this process already reported, until their window resets. */
  private readonly exhaustionNoted = new Map<string, number>();
  private readonly instances = new BudgetInstances();
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly estimator: GuardConfig['estimator'];
  private readonly breakers: CircuitBreakers;
  private readonly webhook: WebhookNotifier | undefined;
  readonly circuits: Guard['circuits'];
  readonly splitDimensions: readonly ScopeDimension[];

  constructor(config: GuardConfig) {
    this.config = normalizeGuardConfig(config);
    this.estimator = this.config.estimator;
    this.prices = this.config.prices;
    this.ledger = this.config.ledger ?? new MemoryLedger({ leaseExpiry: this.config.leaseExpiry });
    this.limiter = new RateLimiter(this.config.rateLimits, this.config.limiter, (failure) =>
      this.reportLimiterUpdateFailure(failure),
    );
    this.plan = new BudgetPlan(this.config.budgets);
    this.splitDimensions = [
      ...new Set<ScopeDimension>([
        ...this.config.budgets.flatMap((budget) => budget.per),
        ...(this.config.rateLimits.some((rule) => rule.perTenant) ? (['tenant'] as const) : []),
      ]),
    ].filter((dimension) => dimension === 'tenant' || dimension === 'user' || dimension === 'feature');
    this.events = new DecisionEmitter(this.config.hooks);
    this.breakers = new CircuitBreakers(this.config.circuitBreakers, (transition) =>
      this.events.emit({ type: 'circuit-state', timestampMs: Date.now(), ...transition }),
    );
    this.circuits = {
      open: (provider, model) => this.breakers.forceOpen(provider.toLowerCase(), this.canonicalModel(model)),
      close: (provider, model) =>
        this.breakers.forceClose(provider.toLowerCase(), this.canonicalModel(model)),
      states: () => this.breakers.states(),
    };
    const webhookConfig = this.config.webhook;
    if (webhookConfig) {
      const notifier = new WebhookNotifier(webhookConfig);
      this.webhook = notifier;
      this.events.subscribe(
        (event) => {
          if (event.type === 'threshold-crossed') notifier.notify(event);
        },
        ['threshold-crossed'],
      );
    }
    this.leaseTimer = setInterval(
      () => void this.collectExpired(),
      Math.min(1000, this.config.leaseMillis / 4),
    );
    this.leaseTimer.unref();
    this.reportPriceTableAge();
  }

  onDecision(hook: DecisionHook, types?: readonly DecisionType[]): () => void {
    return this.events.subscribe(hook, types);
  }

  async admit(call: LlmCallDescriptor, options: CallOptions = {}): Promise<Admission> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const callId = randomUUID();
    const requestedModel = call.model;
    const scope = mergeScopes(
      currentScope(),
      options.priority ? { ...options.scope, priority: options.priority } : options.scope,
    );
    let planned = this.planCall(call, callId, scope);
    let probe = this.admitThroughCircuit(planned);
    let lines: PlannedLine[] = [];
    if (planned.budgets.length > 0) {
      lines = this.plan.lines(planned.budgets, planned.subject, planned.amounts, this.ledger.now());
      let states = await this.ledger.peek(lines.map((line) => line.line));
      const decision = evaluateRules(
        this.config.policies,
        { provider: call.provider, models: [call.model.toLowerCase(), planned.subject.model], scope },
        lines,
        states,
      );
      if (decision.action === 'fallback') {
        this.releaseProbe(planned, probe);
        const fromModel = call.model;
        call = { ...call, model: decision.toModel, body: { ...call.body, model: decision.toModel } };
        planned = this.planCall(call, callId, scope);
        probe = this.admitThroughCircuit(planned);
        this.events.emit({
          ...planned.base,
          type: 'model-fallback',
          ruleId: decision.rule.id,
          fromModel,
          toModel: decision.toModel,
          budgetId: decision.rule.when.budget,
          usedRatio: decision.usedRatio,
        });
        lines =
          planned.budgets.length > 0
            ? this.plan.lines(planned.budgets, planned.subject, planned.amounts, this.ledger.now())
            : [];
        states = lines.length > 0 ? await this.ledger.peek(lines.map((line) => line.line)) : [];
      } else if (decision.action === 'reject' || decision.action === 'defer') {
        this.releaseProbe(planned, probe);
        const error = new PolicyRejectedError({
          ruleId: decision.rule.id,
          action: decision.action,
          budgetId: decision.rule.when.budget,
          budgetScope: decision.budgetScope,
          usedRatio: decision.usedRatio,
          retryAfterMs: Math.max(0, decision.resetAtMs - this.ledger.now()),
        });
        this.events.emit({
          ...planned.base,
          type: 'policy-rejected',
          ruleId: error.ruleId,
          action: error.action,
          budgetId: error.budgetId,
          budgetScope: error.budgetScope,
          usedRatio: error.usedRatio,
          retryAfterMs: error.retryAfterMs,
        });
        throw error;
      }
      const failed = states.findIndex(
        (state, index) => state.spent + state.reserved + lines[index]!.line.amount > state.limit,
      );
      if (failed >= 0) {
        this.releaseProbe(planned, probe);
        throw this.budgetExceeded(planned, lines[failed]!, states[failed]!);
      }
    }
    const { estimate, base, subject, budgets, amounts } = planned;

    let permit: LimiterPermit;
    try {
      permit = await this.limiter.acquire(
        {
          provider: call.provider,
          model: call.model,
          canonicalModel: estimate.pricedModel,
          tenant: scope.tenant,
          weightTokens: estimate.worstCaseTokens,
          priority: scope.priority ?? 'interactive',
        },
        signal,
      );
      // Aborted during the last step of the wait: nothing goes out, so the capacity goes back.
      if (signal?.aborted) {
        permit.refund();
        throw abortReason(signal);
      }
    } catch (error) {
      if (signal?.aborted) {
        this.events.emit({ ...base, type: 'aborted', waitMillis: Date.now() - base.timestampMs });
      } else if (RateLimitedError.isInstance(error)) {
        this.events.emit({
          ...base,
          type: 'rate-limited',
          waitMillis: Date.now() - base.timestampMs,
          limiterKey: error.limiterKey,
          reason: error.reason,
          retryAfterMs: error.retryAfterMs,
        });
      }
      this.releaseProbe(planned, probe);
      throw error;
    }
    base.waitMillis = permit.waitMillis;
    if (permit.waitMillis >= THROTTLE_REPORT_MILLIS) {
      this.events.emit({ ...base, type: 'throttled', limiterKeys: permit.limiterKeys });
    }

    // The window may have rolled while the call queued: plan the lines again at reservation time.
    const reserveAtMs = this.ledger.now();
    if (budgets.length === 0) lines = [];
    else if (lines.length === 0 || !windowsStillOpen(lines, reserveAtMs))
      lines = this.plan.lines(budgets, subject, amounts, reserveAtMs);
    let headroom: number | undefined;
    if (lines.length > 0) {
      let result: Awaited<ReturnType<BudgetLedger['reserve']>>;
      try {
        result = await this.ledger.reserve({
          reservationId: callId,
          lines: lines.map((planned) => planned.line),
          leaseMillis: this.config.leaseMillis,
        });
      } catch (error) {
        permit.refund();
        this.releaseProbe(planned, probe);
        throw error;
      }
      if (!result.ok) {
        permit.refund();
        this.releaseProbe(planned, probe);
        throw this.budgetExceeded(planned, lines[result.failedLine]!, result.state);
      }
      this.instances.record(lines, result.lines);
      headroom = minHeadroomRatio(result.lines);
    }

    const admission = new GuardAdmission(
      this,
      callId,
      call.model,
      requestedModel,
      estimate,
      scope,
      base,
      lines,
      permit,
      headroom,
      probe,
    );
    this.openCalls.set(callId, { admission, lines });
    if (this.events.wants('allowed')) {
      this.events.emit({
        ...base,
        type: 'allowed',
        reservationId: callId,
        budgets: touched(lines),
        limiterKeys: permit.limiterKeys,
      });
    }
    return admission;
  }

  /** Estimates a call and works out which budgets apply and what it would reserve on each. */
  private planCall(call: LlmCallDescriptor, callId: string, scope: Readonly<CallScope>): PlannedCall {
    const estimate = estimateCall(call, {
      prices: this.prices,
      defaultMaxOutputTokens: this.config.defaultMaxOutputTokens,
      unknownModel: this.config.unknownModel,
      estimator: this.estimator,
    });
    const base: CallDecisionBase = {
      callId,
      timestampMs: Date.now(),
      provider: call.provider,
      model: call.model,
      pricedModel: estimate.pricedModel,
      scope,
      estimatedInputTokens: estimate.estimatedInputTokens,
      estimateMethod: estimate.estimateMethod,
      maxOutputTokens: estimate.maxOutputTokens,
      estimatedCostUsd: estimate.worstCaseUsd,
      costLabel: 'estimate',
      waitMillis: 0,
    };
    const subject: BudgetSubject = {
      provider: call.provider,
      model: estimate.pricedModel ?? call.model.toLowerCase(),
      scope,
    };
    const budgets = this.plan.applicable(subject);
    if (estimate.price === undefined) {
      const usdBudgets = budgets.filter((budget) => budget.limits.some((limit) => limit.unit === 'usd'));
      if (usdBudgets.length > 0) {
        const ids = usdBudgets.map((budget) => budget.id);
        this.events.emit({ ...base, type: 'unpriced-model', budgetIds: ids });
        throw new UnknownModelPriceError(call.model, ids);
      }
    }
    const capField = outputCapField(call);
    if (estimate.outputBound === 'none') {
      // Nothing bounds the output: a token or USD reservation would be a guess, not a limit.
      const bounded = budgets.filter((budget) =>
        budget.limits.some((limit) => limit.unit === 'usd' || limit.unit === 'tokens'),
      );
      if (bounded.length > 0) {
        const ids = bounded.map((budget) => budget.id);
        this.events.emit({ ...base, type: 'unbounded-output', budgetIds: ids });
        throw new UnboundedOutputError(call.model, ids, capField);
      }
    }
    const amounts: LedgerAmounts = {
      usd: ledgerAmount(Math.ceil((estimate.worstCaseUsd ?? 0) * NANO_USD_PER_USD)),
      tokens: ledgerAmount(estimate.worstCaseTokens),
      requests: 1,
    };
    return { estimate, capField, base, subject, budgets, amounts };
  }

  /** Refuses the call at once when its circuit is open; returns whether it is a half-open probe. */
  private admitThroughCircuit(planned: PlannedCall): boolean {
    try {
      return this.breakers.admit(planned.subject.provider, planned.subject.model);
    } catch (error) {
      if (CircuitOpenError.isInstance(error)) {
        this.events.emit({
          ...planned.base,
          type: 'circuit-open',
          circuitKey: error.circuitKey,
          reason: error.reason,
          retryAfterMs: error.retryAfterMs,
        });
      }
      throw error;
    }
  }

  /** A probe slot taken for a call that was then refused goes back unjudged. */
  private releaseProbe(planned: PlannedCall, probe: boolean): void {
    if (probe)
      this.breakers.record(planned.subject.provider, planned.subject.model, true, {
        failure: 'cancelled',
        latencyMillis: 0,
        costUsd: 0,
      });
  }

  async run<T>(
    call: LlmCallDescriptor,
    fn: (admission: Admission) => Promise<T>,
    options: RunOptions<T> = {},
  ): Promise<T> {
    const admission = await this.admit(call, options);
    let result: T;
    try {
      result = await fn(admission);
    } catch (error) {
      await admission.release(
        error instanceof Error ? `call failed: ${error.message}` : 'call failed',
        classifyFailure(error),
      );
      throw error;
    }
    await admission.settle(options.usage ? options.usage(result) : undefined);
    return result;
  }

  applyProviderFeedback(feedback: ProviderFeedback): void {
    const canonical = this.prices.resolve(feedback.model)?.model ?? feedback.model.toLowerCase();
    // The limiter reports its own store failures; anything else is a bug to surface, never to swallow.
    void this.limiter.applyFeedback({ ...feedback, model: canonical }).catch((error: unknown) => {
      diag.error(`tollgate: applying provider feedback for ${feedback.provider}:${canonical} failed`, error);
    });
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

  async budgetStatus(
    budgetId: string,
    scope: CallScope & { provider?: string; model?: string } = {},
  ): Promise<BudgetStatus[]> {
    const budget = this.config.budgets.find((candidate) => candidate.id === budgetId);
    if (!budget) throw new TollgateConfigError('budgetId', 'names no configured budget', budgetId);
    const subject: BudgetSubject = { provider: scope.provider ?? '', model: scope.model ?? '', scope };
    const lines = this.plan.lines([budget], subject, { usd: 0, tokens: 0, requests: 0 }, this.ledger.now());
    const states = await this.ledger.peek(lines.map((planned) => planned.line));
    return lines.map((planned, index) => {
      const state = states[index]!;
      return {
        budgetId,
        unit: planned.unit,
        limit: toDisplayUnits(planned.unit, state.limit),
        spent: toDisplayUnits(planned.unit, state.spent),
        reserved: toDisplayUnits(planned.unit, state.reserved),
        resetAtMs: state.resetAtMs,
      };
    });
  }

  /** Counts text with the guard's estimator options (used by admissions). */
  countText(model: string, text: string): number {
    return countTextTokens(model, text, this.estimator);
  }

  private canonicalModel(model: string): string {
    return this.prices.resolve(model)?.model ?? model.toLowerCase();
  }

  budgetInstances(): BudgetInstanceState[] {
    return this.instances.snapshot(this.ledger.now());
  }

  async close(): Promise<void> {
    clearInterval(this.leaseTimer);
    await this.limiter.close();
    await this.ledger.close();
    await this.webhook?.close();
  }

  /** Ends an admission: settles (or releases) its reservation and emits the events. Called by `GuardAdmission`. */
  async finish(
    admission: GuardAdmission,
    usage: TokenUsage | undefined,
    source: UsageSource | 'released',
    reason: string,
    failure: CallFailure | undefined,
  ): Promise<Settlement> {
    const open = this.openCalls.get(admission.callId);
    this.openCalls.delete(admission.callId);
    admission.permit.release();
    const lines = open?.lines ?? admission.lines;
    const durationMillis = Date.now() - admission.admittedAtMs;
    const judge = (costUsd: number) =>
      this.breakers.record(admission.base.provider, admission.circuitModel, admission.probe, {
        failure,
        latencyMillis: durationMillis,
        costUsd,
      });

    if (source === 'released') {
      this.breakers.record(admission.base.provider, admission.circuitModel, admission.probe, {
        failure: failure ?? 'cancelled',
        latencyMillis: durationMillis,
        costUsd: 0,
      });
      let result: Awaited<ReturnType<BudgetLedger['release']>> | undefined;
      try {
        result = lines.length > 0 ? await this.ledger.release(admission.callId) : undefined;
      } catch (error) {
        this.settleFailed(admission, open, 'release', undefined, error);
        return {
          usageSource: 'reservation',
          actualCostUsd: undefined,
          costDeltaUsd: undefined,
          applied: false,
          minHeadroomRatio: undefined,
        };
      }
      if (result?.applied) this.instances.record(lines, result.lines);
      if (this.events.wants('released')) {
        this.events.emit({
          ...admission.base,
          type: 'released',
          reservationId: admission.callId,
          reason,
          applied: result?.applied ?? true,
        });
      }
      return {
        usageSource: 'reservation',
        actualCostUsd: undefined,
        costDeltaUsd: undefined,
        applied: result?.applied ?? true,
        minHeadroomRatio: result?.applied ? minHeadroomRatio(result.lines) : undefined,
      };
    }

    if (usage !== undefined) {
      // One boundary for every source of usage: garbage must neither throw midway through a
      // settlement nor reach a ledger that only adds exact integers.
      const normalized = normalizeUsage(usage);
      usage = normalized.usage;
      if (normalized.adjustments.length > 0) {
        diag.warn(
          `tollgate: usage of call ${admission.callId} (${admission.base.model}) adjusted before settling: ` +
            normalized.adjustments.join('; '),
        );
      }
    }
    const effective = usageOrWorstCase(usage, admission.estimate);
    const usageSource: UsageSource = usage === undefined ? 'reservation' : source;
    const costUsd = actualCostUsd(effective, admission.estimate);
    judge(costUsd ?? 0);
    const actual: LedgerAmounts = {
      // Nothing reported (or no cost computable from it): charge exactly what was reserved
      // rather than a recomputation that could differ by rounding.
      usd:
        usage === undefined || Number.isNaN(costUsd)
          ? -1
          : ledgerAmount(Math.round((costUsd ?? 0) * NANO_USD_PER_USD)),
      tokens: ledgerAmount(effective.inputTokens + effective.outputTokens),
      requests: 1,
    };
    const amounts = lines.map((planned) =>
      actual[planned.unit] < 0 ? planned.line.amount : actual[planned.unit],
    );
    let result: Awaited<ReturnType<BudgetLedger['settle']>> | undefined;
    try {
      result = lines.length > 0 ? await this.ledger.settle(admission.callId, amounts) : undefined;
    } catch (error) {
      this.settleFailed(admission, open, 'settle', effective, error);
      return {
        usageSource,
        actualCostUsd: costUsd,
        costDeltaUsd: undefined,
        applied: false,
        minHeadroomRatio: undefined,
      };
    }
    const applied = result?.applied ?? true;
    const costDeltaUsd =
      costUsd !== undefined && admission.estimate.worstCaseUsd !== undefined
        ? costUsd - admission.estimate.worstCaseUsd
        : undefined;
    if (this.events.wants('settled')) {
      this.events.emit({
        ...admission.base,
        type: 'settled',
        reservationId: admission.callId,
        usage: effective,
        usageSource,
        actualCostUsd: costUsd,
        costDeltaUsd,
        budgets: lines.map((planned, index) => ({
          budgetId: planned.budgetId,
          unit: planned.unit,
          scope: planned.scope,
          reserved: toDisplayUnits(planned.unit, amounts[index]!),
        })),
        applied,
        durationMillis,
      });
    }
    if (result) this.emitCrossings(result.crossed, lines, admission.callId);
    if (result?.applied) this.instances.record(lines, result.lines);
    return {
      usageSource,
      actualCostUsd: costUsd,
      costDeltaUsd,
      applied,
      minHeadroomRatio: result?.applied ? minHeadroomRatio(result.lines) : undefined,
    };
  }

  private budgetExceeded(
    call: PlannedCall,
    planned: PlannedLine,
    state: { limit: number; spent: number; reserved: number; resetAtMs: number },
  ): BudgetExceededError {
    const base = call.base;
    const details = {
      budgetId: planned.budgetId,
      scope: planned.scope,
      unit: planned.unit,
      limit: toDisplayUnits(planned.unit, state.limit),
      spent: toDisplayUnits(planned.unit, state.spent),
      reserved: toDisplayUnits(planned.unit, state.reserved),
      requested: toDisplayUnits(planned.unit, planned.line.amount),
      resetAtMs: state.resetAtMs,
    };
    const { scope: budgetScope, ...figures } = details;
    this.events.emit({ ...base, type: 'budget-exceeded', ...figures, budgetScope });
    this.noteExhausted(planned, state.resetAtMs, base.callId);
    return new BudgetExceededError({
      ...details,
      advice: planned.unit === 'requests' ? undefined : reservationAdvice(call.estimate, call.capField),
    });
  }

  /**
   * The ledger could not end a reservation. It is not lost: the ledger validated before it
   * changed anything, so the reservation stays held until its lease expires (or until a ledger
   * that retries, like Redis's, ends it), and the call stays known here so the `lease-expired`
   * event names it. Once the lease has certainly passed, the entry goes: a retried settlement
   * never reports back here, and an outage must not grow this map for good.
   */
  private settleFailed(
    admission: GuardAdmission,
    open: OpenCall | undefined,
    operation: 'settle' | 'release',
    usage: TokenUsage | undefined,
    error: unknown,
  ): void {
    if (open) {
      this.openCalls.set(admission.callId, open);
      setTimeout(
        () => this.openCalls.delete(admission.callId),
        this.config.leaseMillis + LEASE_REPORT_GRACE_MILLIS,
      ).unref();
    }
    const message = error instanceof Error ? error.message : String(error);
    diag.error(
      `tollgate: the ledger failed to ${operation} reservation ${admission.callId} (${admission.base.model}); ` +
        `it stays held until its lease expires (${this.ledger.leaseExpiry ?? 'store policy'}): ${message}`,
    );
    this.events.emit({
      ...admission.base,
      type: 'settle-failed',
      reservationId: admission.callId,
      operation,
      usage,
      error: message,
      leaseExpiry: this.ledger.leaseExpiry,
    });
  }

  /**
   * A refusal for lack of room fires the budget's 100 % threshold, once per window, through the
   * ledger (so once across processes too). Off the refusal's path; a flood of refusals asks the
   * ledger once per counter and window from this process.
   */
  private noteExhausted(planned: PlannedLine, resetAtMs: number, callId: string): void {
    const { line } = planned;
    if (!line.thresholds.includes(1)) return;
    const nowMs = this.ledger.now();
    if ((this.exhaustionNoted.get(line.key) ?? 0) > nowMs) return;
    if (this.exhaustionNoted.size >= MAX_EXHAUSTION_NOTES) {
      for (const [key, untilMs] of this.exhaustionNoted)
        if (untilMs <= nowMs) this.exhaustionNoted.delete(key);
      if (this.exhaustionNoted.size >= MAX_EXHAUSTION_NOTES) this.exhaustionNoted.clear();
    }
    this.exhaustionNoted.set(line.key, resetAtMs);
    this.ledger.exhausted([line]).then(
      (crossed) => this.emitCrossings(crossed, [planned], callId),
      (error: unknown) => {
        this.exhaustionNoted.delete(line.key);
        diag.warn(`tollgate: could not record that budget "${planned.budgetId}" is exhausted`, error);
      },
    );
  }

  private emitCrossings(
    crossed: readonly ThresholdCrossing[],
    lines: readonly PlannedLine[] | undefined,
    callId: string | undefined,
  ): void {
    for (const crossing of crossed) {
      const planned = lines?.[crossing.line];
      const parsed = planned ?? parseCounterKey(crossing.key);
      const window = planned?.line.window ?? this.plan.windowOf(parsed.budgetId, parsed.windowStartMs);
      this.events.emit({
        type: 'threshold-crossed',
        timestampMs: Date.now(),
        callId,
        budgetId: parsed.budgetId,
        unit: parsed.unit,
        scope: parsed.scope,
        threshold: crossing.threshold,
        spent: toDisplayUnits(parsed.unit, crossing.spent),
        limit: toDisplayUnits(parsed.unit, crossing.limit),
        windowStartMs: parsed.windowStartMs,
        windowEndMs: window?.kind === 'calendar' ? window.endMs : undefined,
        windowKind: window?.kind ?? (parsed.windowStartMs === undefined ? 'rolling' : 'calendar'),
        costLabel: 'estimate',
      });
    }
  }

  private async collectExpired(): Promise<void> {
    let expired: ExpiredReservation[];
    try {
      expired = await this.ledger.collectExpired();
    } catch {
      return; // The next tick retries; the store's own lease handling still applies.
    }
    for (const reservation of expired) {
      const open = this.openCalls.get(reservation.reservationId);
      this.openCalls.delete(reservation.reservationId);
      open?.admission.expire();
      const budgets: BudgetTouched[] = reservation.keys.map((key, index) => {
        const parsed = parseCounterKey(key);
        return {
          budgetId: parsed.budgetId,
          unit: parsed.unit,
          scope: parsed.scope,
          reserved: toDisplayUnits(parsed.unit, reservation.charged[index] ?? 0),
        };
      });
      this.events.emit({
        type: 'lease-expired',
        timestampMs: Date.now(),
        callId: open ? reservation.reservationId : undefined,
        reservationId: reservation.reservationId,
        policy: reservation.policy,
        budgets,
      });
      this.emitCrossings(reservation.crossed, open?.lines, open ? reservation.reservationId : undefined);
    }
  }

  private reportPriceTableAge(): void {
    const ageDays = this.prices.ageDays(Date.now());
    if (ageDays <= this.config.priceTableMaxAgeDays) return;
    this.events.emit({
      type: 'price-table-stale',
      timestampMs: Date.now(),
      checkedAt: this.prices.checkedAt,
      ageDays,
      maxAgeDays: this.config.priceTableMaxAgeDays,
    });
  }
}

class GuardAdmission implements Admission {
  readonly admittedAtMs = Date.now();
  private ended: Promise<Settlement> | undefined;

  constructor(
    private readonly guard: GuardImpl,
    readonly callId: string,
    readonly model: string,
    readonly requestedModel: string,
    readonly estimate: CallEstimate,
    readonly scope: Readonly<CallScope>,
    readonly base: CallDecisionBase,
    readonly lines: PlannedLine[],
    readonly permit: LimiterPermit,
    readonly minHeadroomRatio: number | undefined,
    /** A half-open circuit's probe: its outcome decides whether the circuit closes. */
    readonly probe: boolean,
  ) {}

  get outputCapToSend(): number | undefined {
    return this.estimate.outputCapToSend;
  }

  /** The model the call's circuit is keyed by. */
  get circuitModel(): string {
    return this.estimate.pricedModel ?? this.model.toLowerCase();
  }

  get budgets(): BudgetTouched[] {
    return touched(this.lines);
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
    this.ended ??= this.guard.finish(this, usage, source, '', outcome.failure);
    return this.ended;
  }

  countOutputTokens(text: string): number {
    return this.guard.countText(this.model, text);
  }

  async release(reason: string, failure?: CallFailure): Promise<void> {
    this.ended ??= this.guard.finish(this, undefined, 'released', reason, failure);
    await this.ended;
  }

  /** The lease ran out: free the limiter slot; a later settle or release reports `applied: false`. */
  expire(): void {
    this.permit.release();
  }
}

/** How a call refused for its size could reserve less, when its output reservation is the reason. */
function reservationAdvice(estimate: CallEstimate, capField: string | undefined): string | undefined {
  if (capField === undefined || estimate.maxOutputTokens === 0) return undefined;
  const reserved = `${estimate.maxOutputTokens} output tokens${estimate.choices > 1 ? ` × ${estimate.choices} choices` : ''}`;
  switch (estimate.outputBound) {
    case 'model-max':
      return (
        `The request sets no ${capField}, so the call reserved the model's maximum output (${reserved}): ` +
        `set ${capField} on the request, or the guard's defaultMaxOutputTokens (Tollgate then sends that cap), to reserve less.`
      );
    case 'sent':
      return `The call reserved the guard's defaultMaxOutputTokens (${reserved}); a lower ${capField} on the request, or a lower defaultMaxOutputTokens, reserves less.`;
    case 'request':
      return `The call reserved the request's own output cap (${reserved}); a lower cap reserves less.`;
    default:
      return undefined;
  }
}
