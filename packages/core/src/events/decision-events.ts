import type { BudgetUnit } from '../budgets/budget-units';
import type { RateLimitReason } from '../errors/rate-limited-error';
import type { LimiterUpdateOperation } from '../limits/limiter-update-failure';
import type { TokenUsage } from '../pricing/token-usage';
import type { CallScope, ScopeValues } from '../scope/scope';
import type { TokenEstimateMethod } from '../tokens/count-text-tokens';

/** Every cost figure Tollgate reports is computed from a price table, not read from a bill. */
export type CostLabel = 'estimate';

/** Where a settled call's usage figures came from. */
export type UsageSource =
  /** Reported by the provider in the response or stream. */
  | 'provider'
  /** Counted locally (e.g. streamed text), because the provider reported none. */
  | 'local-count'
  /** Nothing was reported: the call was charged its full reservation. */
  | 'reservation';

/** One budget instance a call touched. */
export interface BudgetTouched {
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  /** Amount reserved for the call, in the budget's unit (USD figures are estimates). */
  reserved: number;
}

/** Fields common to every decision about one call. */
export interface CallDecisionBase {
  callId: string;
  timestampMs: number;
  provider: string;
  /** Model as requested. */
  model: string;
  /** Model the price table resolved it to, when priced. */
  pricedModel: string | undefined;
  scope: Readonly<CallScope>;
  estimatedInputTokens: number;
  estimateMethod: TokenEstimateMethod;
  maxOutputTokens: number;
  /** Worst-case cost of the call: estimated input plus maximum output, at list price. Undefined when unpriced. */
  estimatedCostUsd: number | undefined;
  costLabel: CostLabel;
  /** Time spent waiting for rate-limit capacity. */
  waitMillis: number;
}

export interface AllowedEvent extends CallDecisionBase {
  type: 'allowed';
  reservationId: string;
  budgets: BudgetTouched[];
  limiterKeys: readonly string[];
}

/** The call had to queue for rate-limit capacity (it was later allowed or rejected). */
export interface ThrottledEvent extends CallDecisionBase {
  type: 'throttled';
  limiterKeys: readonly string[];
}

export interface RateLimitedEvent extends CallDecisionBase {
  type: 'rate-limited';
  limiterKey: string;
  reason: RateLimitReason;
  retryAfterMs: number;
}

export interface BudgetExceededEvent extends CallDecisionBase {
  type: 'budget-exceeded';
  budgetId: string;
  budgetScope: ScopeValues;
  unit: BudgetUnit;
  limit: number;
  spent: number;
  reserved: number;
  requested: number;
  resetAtMs: number;
}

/** The call was refused because its model has no price and a USD budget applies. */
export interface UnpricedModelEvent extends CallDecisionBase {
  type: 'unpriced-model';
  budgetIds: readonly string[];
}

/**
 * The call was refused because its request sets no output cap, the model's maximum output is
 * unknown, and a token or USD budget applies: nothing would bound what the provider bills.
 */
export interface UnboundedOutputEvent extends CallDecisionBase {
  type: 'unbounded-output';
  budgetIds: readonly string[];
}

export interface SettledEvent extends CallDecisionBase {
  type: 'settled';
  reservationId: string;
  /** Usage the settlement used, normalised; raw provider usage travels with the instrumentation's span. */
  usage: TokenUsage;
  usageSource: UsageSource;
  /** Cost of the actual usage at list price (an estimate). */
  actualCostUsd: number | undefined;
  /** `actualCostUsd − estimatedCostUsd`: negative when the reservation was generous. */
  costDeltaUsd: number | undefined;
  budgets: BudgetTouched[];
  /** False when the reservation had already ended (expired lease, or a second settle). */
  applied: boolean;
  durationMillis: number;
}

export interface ReleasedEvent extends CallDecisionBase {
  type: 'released';
  reservationId: string;
  reason: string;
  applied: boolean;
}

/**
 * The ledger failed to settle or release a call's reservation (e.g. the store was
 * unreachable). The reservation is not lost: it stays held until its lease runs out, and a
 * `lease-expired` event then reports what the expiry policy charged for it.
 */
export interface SettleFailedEvent extends CallDecisionBase {
  type: 'settle-failed';
  reservationId: string;
  operation: 'settle' | 'release';
  /** Usage the settlement tried to charge (normalised); undefined for a release. */
  usage: TokenUsage | undefined;
  /** The ledger's error message. */
  error: string;
  /** What the lease's expiry will charge: the ledger's policy. */
  leaseExpiry: 'charge-reserved' | 'release' | undefined;
}

export interface ThresholdCrossedEvent {
  type: 'threshold-crossed';
  timestampMs: number;
  /** The call whose settlement crossed the threshold, when one did. */
  callId: string | undefined;
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  /** Fraction of the limit, e.g. 0.8. */
  threshold: number;
  spent: number;
  limit: number;
  /** Start of the calendar window (undefined for rolling windows). */
  windowStartMs: number | undefined;
  /** End of the calendar window, when the crossing re-arms (undefined for rolling windows). */
  windowEndMs: number | undefined;
  windowKind: 'calendar' | 'rolling';
  costLabel: CostLabel;
}

export interface LeaseExpiredEvent {
  type: 'lease-expired';
  timestampMs: number;
  callId: string | undefined;
  reservationId: string;
  policy: 'charge-reserved' | 'release';
  budgets: BudgetTouched[];
}

/** The call's circuit is open: refused at once. */
export interface CircuitOpenEvent extends CallDecisionBase {
  type: 'circuit-open';
  circuitKey: string;
  reason: string;
  retryAfterMs: number;
}

/** A circuit changed state (closed → open → half-open → closed). */
export interface CircuitStateEvent {
  type: 'circuit-state';
  timestampMs: number;
  circuitKey: string;
  provider: string;
  model: string;
  from: 'closed' | 'open' | 'half-open';
  to: 'closed' | 'open' | 'half-open';
  /** `error-rate`, `latency`, `spend-rate`, `manual`, `probe-failed`, `cool-down elapsed`, `probe succeeded`. */
  reason: string;
}

/**
 * A routing rule (`fallback`, `cheapest`) sent the call to another model; the event carries the
 * new model's estimate, and `provider` is the provider the call now goes to.
 */
export interface ModelFallbackEvent extends CallDecisionBase {
  type: 'model-fallback';
  ruleId: string;
  fromModel: string;
  toModel: string;
  /** The provider the call named. */
  fromProvider: string;
  /** The provider the call goes to; differs from `fromProvider` only for a cross-provider substitute. */
  toProvider: string;
  /**
   * What fired the rule: its budget's use, the open circuit of `fromModel`, or a `cheapest`
   * rule finding a cheaper (or the only available) model.
   */
  trigger: 'budget' | 'circuit-open' | 'cheapest';
  /** The rule's budget; absent for a rule that fires only on an open circuit. */
  budgetId: string | undefined;
  /** How much of that budget the call's instance had used, when measured. */
  usedRatio: number | undefined;
}

/** A degradation rule refused (`reject`) or deferred (`defer`) the call. */
export interface PolicyRejectedEvent extends CallDecisionBase {
  type: 'policy-rejected';
  ruleId: string;
  action: 'reject' | 'defer';
  budgetId: string;
  budgetScope: ScopeValues;
  usedRatio: number;
  retryAfterMs: number;
}

/** A loop rule refused the call: the same request was sent `count` times in the rule's window. */
export interface LoopDetectedEvent extends CallDecisionBase {
  type: 'loop-detected';
  ruleId: string;
  /** The scope values the repeats were counted under; empty for a rule without `per`. */
  loopScope: ScopeValues;
  count: number;
  windowMillis: number;
  retryAfterMs: number;
  /** Digest of the repeated request (base64url SHA-256). */
  fingerprint: string;
}

/**
 * The rate limiter could not apply an update to a bucket: a give-back or refund of unused
 * capacity, or a shrink to what the provider says remains (e.g. the shared store was
 * unreachable). Also logged through `diag`. A failed give-back or refund leaves the bucket
 * holding less than it should until it refills; a failed shrink leaves it holding more.
 */
export interface LimiterUpdateFailedEvent {
  type: 'limiter-update-failed';
  timestampMs: number;
  limiterKey: string;
  bucket: 'requests' | 'tokens';
  operation: LimiterUpdateOperation;
  /** Permits returned (`give-back`, `refund`), or the ceiling that was to be set (`shrink`). */
  weight: number;
  error: unknown;
}

/** The caller's `AbortSignal` aborted the call while it waited at the gate: nothing was reserved or sent. */
/**
 * A call refused because its request body is malformed where the gate must read it
 * (`InvalidRequestError`): nothing was estimated, reserved or sent.
 */
export interface InvalidRequestEvent {
  type: 'invalid-request';
  callId: string;
  timestampMs: number;
  provider: string;
  model: string;
  scope: Readonly<CallScope>;
  /** Path of the offending field in the request body. */
  field: string;
}

export interface AbortedEvent extends CallDecisionBase {
  type: 'aborted';
}

/** The bundled price table is older than `priceTableMaxAgeDays`. */
export interface PriceTableStaleEvent {
  type: 'price-table-stale';
  timestampMs: number;
  checkedAt: string;
  ageDays: number;
  maxAgeDays: number;
}

export type DecisionEvent =
  | AllowedEvent
  | ThrottledEvent
  | RateLimitedEvent
  | BudgetExceededEvent
  | UnpricedModelEvent
  | UnboundedOutputEvent
  | SettledEvent
  | ReleasedEvent
  | SettleFailedEvent
  | ThresholdCrossedEvent
  | LeaseExpiredEvent
  | PriceTableStaleEvent
  | CircuitOpenEvent
  | CircuitStateEvent
  | ModelFallbackEvent
  | PolicyRejectedEvent
  | LoopDetectedEvent
  | LimiterUpdateFailedEvent
  | InvalidRequestEvent
  | AbortedEvent;

export type DecisionType = DecisionEvent['type'];

/** Receives decision events. May be async; its failures are logged and never reach the call. */
export type DecisionHook = (event: DecisionEvent) => void | Promise<void>;
