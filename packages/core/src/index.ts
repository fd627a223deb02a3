// What applications use (`@tollgate/core`). Provider instrumentations are built on
// `@tollgate/core/instrumentation`; tests of ledgers and instrumentations use `@tollgate/core/testing`.

// The gate

export type { WebhookConfig } from './alerts/webhook-config';
export type { ThresholdAlertPayload } from './alerts/webhook-notifier';
export type {
  BudgetConfig,
  BudgetMatch,
  BudgetWindow,
  CalendarWindow,
  RollingWindow,
} from './budgets/budget-config';
export type { BudgetInstanceState } from './budgets/budget-instances';
export type {
  BudgetLedger,
  ExpiredReservation,
  LeaseExpiryPolicy,
  LedgerLine,
  LedgerWindow,
  LineState,
  ReservationStatus,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  ThresholdCrossing,
} from './budgets/budget-ledger';
export type { BudgetUnit } from './budgets/budget-units';
// Counter keys and ledger units, for tools that read a ledger directly (the `tollgate` CLI)
export { toDisplayUnits } from './budgets/budget-units';
export type { WindowBounds } from './budgets/budget-window';
export { calendarWindowAt } from './budgets/budget-window';
export { counterKey, parseCounterKey } from './budgets/counter-key';
export type { MemoryLedgerOptions } from './budgets/memory-ledger';
// Budget ledger (implement `BudgetLedger` to keep budgets elsewhere)
export { MemoryLedger } from './budgets/memory-ledger';
// Response cache (implement `ResponseCacheStore` to keep replies elsewhere)
export type { CacheConfig, CacheRule, CacheRuleMatch } from './cache/cache-config';
export { cacheKey } from './cache/cache-key';
export type { CachedReply } from './cache/cached-reply';
export type { MemoryResponseCacheOptions } from './cache/memory-response-cache';
export { MemoryResponseCache } from './cache/memory-response-cache';
export type { ResponseCacheStore } from './cache/response-cache-store';
export type { LlmCallDescriptor, OperationName, ProviderName, SubstituteReach } from './call/llm-call';
// Option readers shared with the store packages: each error names the option's path
export { expectOneOf, expectRecord, optionalNumber, optionalString } from './config/config-reader';
// Configuration
export type { FallbackPrice, GuardConfig, ProviderConfig } from './config/guard-config';
export type { GuardEstimatorOptions } from './config/guard-estimator-options';
export type { BudgetExceededDetails } from './errors/budget-exceeded-error';
export { BudgetExceededError } from './errors/budget-exceeded-error';
export { CircuitOpenError } from './errors/circuit-open-error';
export { TollgateConfigError } from './errors/config-error';
export { InvalidRequestError } from './errors/invalid-request-error';
export type { LoopDetectedDetails } from './errors/loop-detected-error';
export { LoopDetectedError } from './errors/loop-detected-error';
export { PolicyRejectedError } from './errors/policy-rejected-error';
export type { RateLimitReason } from './errors/rate-limited-error';
export { RateLimitedError } from './errors/rate-limited-error';
// Errors
export { TollgateError } from './errors/tollgate-error';
export { UnboundedOutputError } from './errors/unbounded-output-error';
export { UnknownModelPriceError } from './errors/unknown-model-price-error';
export type { CallEstimate, EstimateSettings, OutputBound } from './estimate/call-estimate';
export { estimateCall } from './estimate/call-estimate';
export type { InputTokenEstimate } from './estimate/estimate-input-tokens';
// Token estimation
export { estimateInputTokens } from './estimate/estimate-input-tokens';
export {
  outputCapField,
  requestedChoiceCount,
  requestedMaxOutputTokens,
  withOutputCap,
} from './estimate/request-output-limits';
// Decision events
export type {
  AbortedEvent,
  AllowedEvent,
  BudgetExceededEvent,
  BudgetTouched,
  CallDecisionBase,
  CircuitOpenEvent,
  CircuitStateEvent,
  CostLabel,
  DecisionEvent,
  DecisionHook,
  DecisionType,
  InvalidRequestEvent,
  LeaseExpiredEvent,
  LimiterUpdateFailedEvent,
  LoopDetectedEvent,
  ModelFallbackEvent,
  PolicyRejectedEvent,
  PriceTableStaleEvent,
  RateLimitedEvent,
  ReleasedEvent,
  SettledEvent,
  SettleFailedEvent,
  ThresholdCrossedEvent,
  ThrottledEvent,
  UnboundedOutputEvent,
  UnpricedModelEvent,
  UsageSource,
} from './events/decision-events';
export { createGuard } from './guard/guard';
export type {
  Admission,
  BudgetStatus,
  CacheLookup,
  CallOptions,
  Guard,
  RunOptions,
  Settlement,
} from './guard/guard-types';
export type { WithinMillisOptions } from './limits/bounded-wait';
// A time bound on a promise, shared with the store packages
export { withinMillis } from './limits/bounded-wait';
// Rate-limit storage (implement `LimiterStore` to keep buckets elsewhere)
export type {
  BucketIdentity,
  LimiterStore,
  LocalLimiterStore,
  SharedLimiterStore,
} from './limits/limiter-store';
export type { LimiterUpdateFailure, LimiterUpdateOperation } from './limits/limiter-update-failure';
export type { ProviderFeedback } from './limits/provider-feedback';
// Provider feedback
export { parseRateLimitHeaders } from './limits/provider-feedback';
export type { RateLimitConfig } from './limits/rate-limit-config';
export type { CallFailure, CircuitState, CircuitStatus } from './policies/circuit-breaker';
export type { CircuitBreakerConfig } from './policies/circuit-breaker-config';
// Policies: degradation rules, circuit breakers, threshold webhooks
export type {
  CheapestRule,
  DegradationRule,
  FallbackRule,
  FallbackTrigger,
  RoutingRule,
  RuleTrigger,
} from './policies/degradation-rule';
export type { LoopRepeatKind, LoopRuleConfig, LoopScopeDimension } from './policies/loop-rule';
export type { CostEstimate, WorstCaseRequest } from './pricing/estimate-cost';
export { estimateCostUsd, worstCaseCostUsd } from './pricing/estimate-cost';
export type {
  LongContextTier,
  ModelKind,
  ModelPrice,
  ModelPriceOverride,
  PriceTableData,
  ResolvedModelPrice,
} from './pricing/model-price';
// Prices and cost (every figure an estimate)
export { PriceTable } from './pricing/price-table';
export type { TokenUsage } from './pricing/token-usage';
export type { OutputCapField } from './request-shapes/request-shape';
export type { CacheChoice, CallPriority, CallScope, ScopeDimension, ScopeValues } from './scope/scope';
// Attribution
export { currentScope, withScope } from './scope/with-scope';
export type { TokenEstimateMethod } from './tokens/count-text-tokens';
export { countTextTokens } from './tokens/count-text-tokens';
export type { TokenEstimatorOptions } from './tokens/token-estimator-options';
export { preloadTokenizer } from './tokens/tokenizer';
export { isTokenizerReady, warmUpTokenizer } from './tokens/tokenizer-warm-up';
