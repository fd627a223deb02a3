import type Bottleneck from 'bottleneck';

/** Names one bucket so that a shared store finds the same state from every process. */
export interface BucketIdentity {
  /** The rule's limiter key, e.g. `openai:gpt-4o-mini` or `openai:gpt-4o-mini:tenant=acme`. */
  readonly limiterKey: string;
  readonly bucket: 'requests' | 'tokens';
  /** Time for the empty bucket to refill completely; 0 for a bucket without a rate. */
  readonly refillMillis: number;
}

/**
 * Where rate-limit buckets live. bottleneck is the limiter's source of truth either way: the
 * store builds each bucket's bottleneck instance from the options the limiter computed. The
 * default keeps buckets in the process; a shared store lets every process draw from the same ones.
 */
export type LimiterStore = LocalLimiterStore | SharedLimiterStore;

interface LimiterStoreBase {
  /** Builds the bottleneck instance of one bucket (rate, burst, concurrency and heartbeat are in `options`). */
  createLimiter(bucket: BucketIdentity, options: Bottleneck.ConstructorOptions): Bottleneck;
  /**
   * Sets a bucket's reservoir to `min(current, ceiling)` in one atomic step, after the refills
   * due: concurrent provider replies can each cap the bucket, never drive it below the smallest
   * ceiling. A store that can do it synchronously returns nothing.
   */
  capReservoir(limiter: Bottleneck, ceiling: number): undefined | Promise<unknown>;
  /** Releases what the store holds (connections); called once by `RateLimiter.close()`. */
  close?(): Promise<void>;
}

/** Buckets private to this process: one limiter draws from them, so what it took is what they lack. */
export interface LocalLimiterStore extends LimiterStoreBase {
  readonly shared: false;
}

/**
 * Buckets shared by every process that uses the same store. A store reached over the network can
 * stall or lose state, so it also says how it is doing and how its failures reach the caller.
 */
export interface SharedLimiterStore extends LimiterStoreBase {
  readonly shared: true;
  /**
   * bottleneck's heartbeat, which is also the refill tick: queued calls learn of refilled
   * capacity at most this late. It replaces the limiter's `refillIntervalMillis`.
   */
  readonly heartbeatIntervalMillis: number;
  /** The store keeps reservoirs as whole numbers: each refill adds whole permits. */
  readonly wholePermits: boolean;
  /**
   * A call's request-bucket slot (its concurrency weight) is freed after this long even if
   * the process holding it crashed. Keep it at least the guard's `leaseMillis`.
   */
  readonly jobExpirationMillis: number;
  /** Bound on a bucket's answer to a new call; past it the store counts as unavailable. */
  readonly commandTimeoutMillis: number;
  /** Whether the store is connected and answering now; false until it has been ready once. */
  isAvailable(): boolean;
  /**
   * Resolves `true` once the store is available, or `false` when it is not within
   * `timeoutMillis`. Without it, an unavailable store fails the call at once.
   */
  whenAvailable?(timeoutMillis: number): Promise<boolean>;
  /** The error that stands for a store which is not connected, or stopped answering, within `boundMillis`. */
  describeFailure(failure: 'not-connected' | 'stopped-answering', boundMillis: number): Error;
  /**
   * Turns a failure to reach the store into the error the caller gets, or returns
   * `undefined` to let the call through without the shared limit (fail-open).
   */
  onStoreFailure(error: unknown, limiterKey: string): Error | undefined;
  /**
   * Whether a bucket's error means its state in the store is gone for good (expired or wiped
   * keys the store cannot recover by itself): the limiter rebuilds that bucket on its next call.
   */
  isLostState(error: unknown): boolean;
  /** Told when a bucket whose state was lost is rebuilt. */
  onLimiterRecreated?(limiterKey: string, reason: string): void;
}
