// One config change: budgets and rate limits in Redis

// Shared response cache
export type { RedisResponseCacheOptions } from './cache/redis-response-cache';
export { createRedisResponseCache } from './cache/redis-response-cache';
export type {
  RedisGuardStore,
  RedisGuardStoreOptions,
} from './connection/create-redis-guard-store';
export { createRedisGuardStore } from './connection/create-redis-guard-store';
export type { RedisConnectionOptions } from './connection/redis-connection-options';
// Events
export type {
  LimiterRecreatedEvent,
  RedisStoreEvent,
  RedisStoreEventHook,
  SettlementDroppedEvent,
  SettlementRetriedEvent,
  StoreRecoveredEvent,
  StoreUnavailableEvent,
  UnavailablePolicy,
} from './connection/redis-store-events';
// Errors
export type {
  GuardStoreUnavailableDetails,
  StoreOperation,
  StoreUnavailableReason,
} from './errors/guard-store-unavailable-error';
export { GuardStoreUnavailableError } from './errors/guard-store-unavailable-error';
// Budget ledger
export type {
  BudgetCounterListing,
  BudgetCounterState,
  ListBudgetCountersOptions,
} from './ledger/list-budget-counters';
export { listBudgetCounters } from './ledger/list-budget-counters';
export { createRedisLedger, RedisLedger } from './ledger/redis-ledger';
export type { RedisLedgerOptions } from './ledger/redis-ledger-options';
// Shared rate limits
export type { RedisLimiterDatastore } from './limiter/redis-limiter-datastore';
export { createRedisLimiterDatastore } from './limiter/redis-limiter-datastore';
export type { RedisLimiterOptions } from './limiter/redis-limiter-options';
