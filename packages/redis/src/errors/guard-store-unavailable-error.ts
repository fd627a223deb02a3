import { TollgateError } from '@tollgate/core';

/** Which store operation could not be completed. */
export type StoreOperation =
  | 'peek'
  | 'reserve'
  | 'settle'
  | 'release'
  | 'exhausted'
  | 'collect-expired'
  | 'rate-limit';

/** Why the store was considered unavailable. */
export type StoreUnavailableReason =
  /** The client was not connected and did not connect within the timeout. */
  | 'not-connected'
  /** Redis did not answer within `commandTimeoutMillis`. */
  | 'timeout'
  /** Redis or the connection answered with an error (connection reset, LOADING, CLUSTERDOWN, …). */
  | 'error';

export interface GuardStoreUnavailableDetails {
  operation: StoreOperation;
  reason: StoreUnavailableReason;
  timeoutMillis: number;
  /** The rate limiter whose shared state could not be reached, for `operation: 'rate-limit'`. */
  limiterKey?: string | undefined;
  cause?: unknown;
}

/**
 * The shared guard store (Redis) could not be reached in time, and the guard fails
 * closed: the call was refused before any request was sent. Nothing was reserved on
 * the caller's behalf, or what was is freed by its lease.
 *
 * @example
 * ```ts
 * try { await client.chat.completions.create(params) }
 * catch (err) { if (GuardStoreUnavailableError.isInstance(err)) return serveDegraded() }
 * ```
 */
export class GuardStoreUnavailableError extends TollgateError {
  static readonly code = 'TOLLGATE_GUARD_STORE_UNAVAILABLE';
  readonly operation: StoreOperation;
  readonly reason: StoreUnavailableReason;
  /** The bound that was applied, in milliseconds. */
  readonly timeoutMillis: number;
  readonly limiterKey: string | undefined;

  constructor(details: GuardStoreUnavailableDetails) {
    const cause = details.cause instanceof Error ? `: ${details.cause.message}` : '';
    super(
      GuardStoreUnavailableError.code,
      `The guard store (Redis) is unavailable for ${details.operation}` +
        `${details.limiterKey ? ` of "${details.limiterKey}"` : ''} (${details.reason}, ` +
        `bound ${details.timeoutMillis} ms)${cause}.${consequence(details.operation)}`,
      { cause: details.cause },
    );
    this.operation = details.operation;
    this.reason = details.reason;
    this.timeoutMillis = details.timeoutMillis;
    this.limiterKey = details.limiterKey;
  }

  /** True for this error from any copy of the package. */
  static override isInstance(value: unknown): value is GuardStoreUnavailableError {
    return TollgateError.isInstance(value) && value.code === GuardStoreUnavailableError.code;
  }
}

/** What the failure meant for the call: admission steps refuse it; ending steps are retried. */
function consequence(operation: StoreOperation): string {
  switch (operation) {
    case 'peek':
    case 'reserve':
    case 'rate-limit':
      return ' The request was not sent.';
    case 'settle':
    case 'release':
      return ' The reservation is kept and the operation retried once Redis answers; its lease ends it otherwise.';
    default:
      return '';
  }
}
