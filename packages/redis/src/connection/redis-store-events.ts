import type { ReservationStatus } from '@tollgate/core';
import type { GuardStoreUnavailableError, StoreOperation } from '../errors/guard-store-unavailable-error';

/** What happens to a call when Redis cannot be reached within `commandTimeoutMillis`. */
export type UnavailablePolicy =
  /** Refuse the call with `GuardStoreUnavailableError` (nothing is sent to the provider). */
  | 'fail-closed'
  /** Let the call through unmetered: budgets and shared limits are neither checked nor counted. */
  | 'fail-open';

/** An operation could not reach Redis; `policy` says what was done about it. */
export interface StoreUnavailableEvent {
  type: 'store-unavailable';
  timestampMs: number;
  operation: StoreOperation;
  policy: UnavailablePolicy;
  /** The typed error; thrown to the caller under `fail-closed`. */
  error: GuardStoreUnavailableError;
}

/** Redis answered again after one or more failures. */
export interface StoreRecoveredEvent {
  type: 'store-recovered';
  timestampMs: number;
  operation: StoreOperation;
  /** Time since the first failure of the outage. */
  outageMillis: number;
  /** Operations that failed during the outage. */
  failedOperations: number;
}

/** A shared rate limiter lost its Redis state (restart, expiry) and was rebuilt. */
export interface LimiterRecreatedEvent {
  type: 'limiter-recreated';
  timestampMs: number;
  limiterKey: string;
  reason: string;
}

/**
 * A settle or release that could not reach Redis was sent again once Redis answered, so the
 * reservation is charged its actual amounts instead of its worst case at lease expiry.
 */
export interface SettlementRetriedEvent {
  type: 'settlement-retried';
  timestampMs: number;
  operation: 'settle' | 'release';
  reservationId: string;
  /** True when the retry ended the reservation; false when it had already ended (its final status is in `status`). */
  applied: boolean;
  status: ReservationStatus;
  /** Time from the first failed attempt to this retry's answer. */
  delayMillis: number;
}

/**
 * A failed settle or release will not be retried: the retry queue was full (the oldest entry
 * is dropped), the ledger was closed, or Redis rejected the script itself. The reservation
 * ends at its lease, per `leaseExpiry`.
 */
export interface SettlementDroppedEvent {
  type: 'settlement-dropped';
  timestampMs: number;
  operation: 'settle' | 'release';
  reservationId: string;
  reason: 'queue-full' | 'closed' | 'rejected';
  /** The script's error, for `rejected`. */
  error?: Error;
}

export type RedisStoreEvent =
  | StoreUnavailableEvent
  | StoreRecoveredEvent
  | LimiterRecreatedEvent
  | SettlementRetriedEvent
  | SettlementDroppedEvent;

/** Receives store events. Exceptions are caught and ignored: a hook never breaks a call. */
export type RedisStoreEventHook = (event: RedisStoreEvent) => void;
