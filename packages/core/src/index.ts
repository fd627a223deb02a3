// The gate
export { createGuard } from './guard/guard';
export type { Admission, BudgetStatus, CallOptions, Guard, RunOptions, Settlement } from './guard/guard';
export type { CallEstimate } from './guard/call-estimate';
export type { LlmCallDescriptor, OperationName, ProviderName } from './call/llm-call';

// Attribution
export { withScope, currentScope } from './scope/with-scope';
export type { CallPriority, CallScope, ScopeDimension, ScopeValues } from './scope/scope';

// Configuration
export type { FallbackPrice, GuardConfig } from './config/guard-config';
export type { BudgetConfig, BudgetMatch, BudgetUnit, BudgetWindow, CalendarWindow, RollingWindow } from './budgets/budget-config';
export type { RateLimitConfig } from './limits/rate-limit-config';

// Errors
export { TollgateError } from './errors/tollgate-error';
export { BudgetExceededError } from './errors/budget-exceeded-error';
export type { BudgetExceededDetails } from './errors/budget-exceeded-error';
export { RateLimitedError } from './errors/rate-limited-error';
export type { RateLimitReason } from './errors/rate-limited-error';
export { TollgateConfigError } from './errors/config-error';
export { UnknownModelPriceError } from './errors/unknown-model-price-error';

// Decision events
export type {
  AllowedEvent,
  BudgetExceededEvent,
  BudgetTouched,
  CallDecisionBase,
  CostLabel,
  DecisionEvent,
  DecisionHook,
  DecisionType,
  LeaseExpiredEvent,
  PriceTableStaleEvent,
  RateLimitedEvent,
  ReleasedEvent,
  SettledEvent,
  ThresholdCrossedEvent,
  ThrottledEvent,
  UnpricedModelEvent,
  UsageSource,
} from './guard/decision-events';

// Budget ledger (implement `BudgetLedger` to keep budgets elsewhere)
export { MemoryLedger } from './budgets/memory-ledger';
export type { MemoryLedgerOptions } from './budgets/memory-ledger';
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
export { calendarWindowAt } from './budgets/budget-window';
export type { WindowBounds } from './budgets/budget-window';

// Provider feedback
export { parseRateLimitHeaders } from './limits/provider-feedback';
export type { ProviderFeedback } from './limits/provider-feedback';

// Prices and cost (every figure an estimate)
export { PriceTable } from './pricing/price-table';
export type { LongContextTier, ModelKind, ModelPrice, ModelPriceOverride, PriceTableData, ResolvedModelPrice } from './pricing/price-table';
export { estimateCostUsd, worstCaseCostUsd } from './pricing/estimate-cost';
export type { CostEstimate, WorstCaseRequest } from './pricing/estimate-cost';
export type { TokenUsage } from './pricing/token-usage';

// Token estimation
export {
  countTextTokens,
  estimateInputTokens,
  preloadTokenizer,
  requestedChoiceCount,
  requestedMaxOutputTokens,
} from './tokens/estimate-input-tokens';
export type { InputTokenEstimate, TokenEstimateMethod, TokenEstimatorOptions } from './tokens/estimate-input-tokens';
