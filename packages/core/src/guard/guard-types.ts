import type { BudgetInstanceState } from '../budgets/budget-instances';
import type { BudgetUnit } from '../budgets/budget-units';
import type { CachedReply } from '../cache/cached-reply';
import type { CacheableRequest, CachePlan } from '../cache/response-cache';
import type { LlmCallDescriptor } from '../call/llm-call';
import type { CallEstimate } from '../estimate/call-estimate';
import type { BudgetTouched, DecisionHook, DecisionType, UsageSource } from '../events/decision-events';
import type { ProviderFeedback } from '../limits/provider-feedback';
import type { CallFailure, CircuitStatus } from '../policies/circuit-breaker';
import type { PriceTable } from '../pricing/price-table';
import type { TokenUsage } from '../pricing/token-usage';
import type { CallPriority, CallScope, ScopeDimension } from '../scope/scope';

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
  /** For a call answered from the response cache: what it would have cost at list price. */
  savedCostUsd?: number | undefined;
}

/** An admitted call. End it exactly once with `settle()` or `release()`; repeats are harmless no-ops. */
export interface Admission {
  readonly callId: string;
  /**
   * The model to send: the requested one, or the substitute a routing rule (`fallback`,
   * `cheapest`) chose. Never carries a provider prefix; the provider is `provider`.
   */
  readonly model: string;
  /** The model the caller asked for. */
  readonly requestedModel: string;
  /**
   * The provider to send to: the call's own, unless a routing rule chose another provider's
   * model, which happens only for calls that declare `substitutes: 'any-provider'`.
   */
  readonly provider: string;
  /** The provider the call named. */
  readonly requestedProvider: string;
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
   * Scope dimensions that budgets, rate limits or loop rules are split by. Metrics label calls with these
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
  /**
   * Looks a call up in the response cache (`cache` in the config, or `withScope({ cache })`).
   * Undefined, synchronously, when the cache does not apply to the call. Instrumentations call
   * it before `admit()`: a hit is answered without admission.
   */
  lookupCache?(request: CacheableRequest, options?: CallOptions): Promise<CacheLookup> | undefined;
  /**
   * The name of the configured provider (`providers`) whose base URL `baseURL` equals or sits
   * under, for instrumentations to name a self-hosted server's calls; undefined when none matches.
   */
  providerAt(baseURL: string | undefined): string | undefined;
  /** Stops timers and closes the limiter and ledger. */
  close(): Promise<void>;
}

export interface BudgetStatus {
  budgetId: string;
  unit: BudgetUnit;
  limit: number;
  spent: number;
  reserved: number;
  resetAtMs: number;
}

/** What the response cache says about one call it applies to. */
export interface CacheLookup {
  readonly plan: CachePlan;
  /** The stored reply, on a hit; undefined on a miss. */
  readonly reply: CachedReply | undefined;
  /** The admission of a hit: reserves nothing; settling it reports the cost saved. */
  hitAdmission(): Admission;
  /** Stores the whole reply a miss received (fire-and-forget). */
  store(reply: CachedReply): void;
}
