import { withinMillis } from '@tollgate/core';
import type { Cluster, Redis } from 'ioredis';
import type {
  RedisStoreEvent,
  RedisStoreEventHook,
  UnavailablePolicy,
} from '../connection/redis-store-events';
import {
  GuardStoreUnavailableError,
  type StoreOperation,
  type StoreUnavailableReason,
} from '../errors/guard-store-unavailable-error';

/** Thrown inside `run` when the bound passes; becomes a `GuardStoreUnavailableError`. */
class StoreTimeout extends Error {
  constructor(readonly reason: StoreUnavailableReason) {
    super(reason === 'timeout' ? 'no answer in time' : 'not connected');
  }
}

/** Errors scripts raise on purpose (bad arguments); they are bugs to surface, not outages. */
const SCRIPT_ERROR = /TOLLGATE_/;

/**
 * Runs store operations within a time bound and applies the unavailability policy:
 * waits for a connection only as long as the bound allows, never queues a command on a
 * client that is not connected, and turns every connection-level failure into one
 * typed error (fail-closed) or a fallback value (fail-open), with an event either way.
 */
export class StoreAvailability {
  private outageStartMs: number | undefined;
  private failedOperations = 0;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    readonly timeoutMillis: number,
    readonly policy: UnavailablePolicy,
    private readonly hook: RedisStoreEventHook | undefined,
    /** Told when the first success after failures ends an outage. */
    private readonly onRecovered?: () => void,
  ) {}

  /** Whether the client is connected right now. */
  isConnected(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Runs `send` once the client is connected, all within the bound.
   * @param onAbandoned called when a command was sent but the bound passed first: it may still run.
   */
  async run<T>(
    operation: StoreOperation,
    send: () => Promise<T>,
    fallback: () => T,
    onAbandoned?: () => void,
  ): Promise<T> {
    const startedAtMs = Date.now();
    const deadlineMs = startedAtMs + this.timeoutMillis;
    try {
      await this.connected(deadlineMs);
      const pending = send();
      const result = await withDeadline(pending, deadlineMs, onAbandoned);
      this.succeeded(operation);
      return result;
    } catch (error) {
      if (error instanceof Error && SCRIPT_ERROR.test(error.message)) throw error;
      const failure = this.failure(operation, error, undefined, startedAtMs);
      if (this.policy === 'fail-open') return fallback();
      throw failure;
    }
  }

  /**
   * Whether the client is connected, waiting at most `timeoutMillis` for it: the first wait
   * of an outage (or of a connection that has yet to come up) may last the bound; during a
   * known outage the answer is `false` at once.
   */
  async waitForConnection(timeoutMillis: number): Promise<boolean> {
    try {
      await this.connected(Date.now() + timeoutMillis);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Records a failure (also one seen elsewhere, e.g. the limiter) and returns the typed error.
   * @param startedAtMs when the failed operation began: the outage is counted from there,
   *   not from the moment its bound ran out.
   */
  failure(
    operation: StoreOperation,
    error: unknown,
    limiterKey?: string,
    startedAtMs: number = Date.now(),
  ): GuardStoreUnavailableError {
    if (GuardStoreUnavailableError.isInstance(error)) return error;
    const reason = error instanceof StoreTimeout ? error.reason : 'error';
    const failure = new GuardStoreUnavailableError({
      operation,
      reason,
      timeoutMillis: this.timeoutMillis,
      limiterKey,
      cause: error instanceof StoreTimeout ? undefined : error,
    });
    this.outageStartMs ??= Math.min(startedAtMs, Date.now());
    this.failedOperations++;
    this.emit({
      type: 'store-unavailable',
      timestampMs: Date.now(),
      operation,
      policy: this.policy,
      error: failure,
    });
    return failure;
  }

  /** Marks the store as answering again. */
  succeeded(operation: StoreOperation): void {
    if (this.outageStartMs === undefined) return;
    const nowMs = Date.now();
    this.emit({
      type: 'store-recovered',
      timestampMs: nowMs,
      operation,
      outageMillis: nowMs - this.outageStartMs,
      failedOperations: this.failedOperations,
    });
    this.outageStartMs = undefined;
    this.failedOperations = 0;
    this.onRecovered?.();
  }

  emit(event: RedisStoreEvent): void {
    try {
      this.hook?.(event);
    } catch {
      // A hook never breaks a call.
    }
  }

  private connected(deadlineMs: number): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    // The first call of an outage waits for a reconnect within the bound; later ones fail at once.
    if (this.client.status === 'end' || this.outageStartMs !== undefined) {
      return Promise.reject(new StoreTimeout('not-connected'));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StoreTimeout('not-connected')),
        Math.max(0, deadlineMs - Date.now()),
      );
      void this.whenReady().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One listener for every waiting call, however many there are. */
  private whenReady(): Promise<void> {
    this.ready ??= new Promise<void>((resolve) => {
      this.client.once('ready', () => {
        this.ready = undefined;
        resolve();
      });
    });
    return this.ready;
  }
}

/**
 * `pending`, or a `StoreTimeout` once `deadlineMs` passes; the late answer (or its error) is
 * dropped and `onAbandoned` runs.
 */
export function withDeadline<T>(
  pending: Promise<T>,
  deadlineMs: number,
  onAbandoned?: () => void,
): Promise<T> {
  return withinMillis(pending, Math.max(0, deadlineMs - Date.now()), {
    timeoutError: () => new StoreTimeout('timeout'),
    onAbandoned,
  });
}
