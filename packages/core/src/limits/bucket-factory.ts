import { diag } from '@opentelemetry/api';
import type Bottleneck from 'bottleneck';
import type { LimiterStore, SharedLimiterStore } from './limiter-store';
import type { PermitLease } from './permit-lease';

/** One bottleneck instance and what this process does with it. */
export interface Bucket {
  limiter: Bottleneck;
  /** Limiter key and bucket name, which name the shared state in a store. */
  readonly key: string;
  readonly name: 'requests' | 'tokens';
  readonly options: Bottleneck.ConstructorOptions;
  /** Set when the shared limiter can no longer recover by itself; the next call rebuilds it. */
  broken: string | undefined;
  /** Refill rate in weight per millisecond; undefined when the bucket only limits concurrency. */
  readonly ratePerMs: number | undefined;
  /** Bucket size (burst); undefined without a rate. */
  readonly capacity: number | undefined;
  readonly refillMs: number;
  /** Rate buckets admit from permits leased in batches; a shared concurrency bucket (held) admits per call. */
  lease: PermitLease | undefined;
  /** Weight queued in per-call (held) jobs, for `retryAfterMs`. */
  queuedWeight: number;
  lastUsedMs: number;
}

/** A local bucket's increase interval as a fraction of its heartbeat: tolerates beats that fire a little early. */
const LOCAL_INCREASE_INTERVAL_FRACTION = 0.8;

/**
 * Builds buckets — bottleneck options from a rule's rate, burst and concurrency, the
 * instance from the store — and rebuilds a shared one whose state the store lost.
 */
export class BucketFactory {
  /** Shared limiters replaced after losing their state, disconnected once their jobs are done. */
  private readonly retired: Bottleneck[] = [];
  private readonly shared: SharedLimiterStore | undefined;

  constructor(
    private readonly store: LimiterStore,
    /** The refill tick (bottleneck's heartbeat). */
    private readonly tickMillis: number,
  ) {
    this.shared = store.shared ? store : undefined;
  }

  create(
    key: string,
    name: Bucket['name'],
    perMinute: number | undefined,
    burst: number | undefined,
    maxConcurrent: number | undefined,
  ): Bucket {
    let ratePerMs: number | undefined;
    let capacity: number | undefined;
    let refillMs = 0;
    let reservoir: Bottleneck.ConstructorOptions = {};
    if (perMinute !== undefined) {
      capacity = burst ?? perMinute;
      ratePerMs = perMinute / 60_000;
      refillMs = capacity / ratePerMs;
      reservoir = {
        reservoir: capacity,
        reservoirIncreaseMaximum: capacity,
        ...this.refillStep(ratePerMs),
      };
    }
    const options = {
      ...reservoir,
      ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
      // Not in bottleneck's typings, but read by its datastores: the heartbeat is the refill tick.
      heartbeatInterval: this.tickMillis,
    } as Bottleneck.ConstructorOptions;
    const bucket: Bucket = {
      limiter: undefined as unknown as Bottleneck,
      key,
      name,
      options,
      broken: undefined,
      ratePerMs,
      capacity,
      refillMs,
      lease: undefined,
      queuedWeight: 0,
      lastUsedMs: Date.now(),
    };
    bucket.limiter = this.newLimiter(bucket);
    return bucket;
  }

  /**
   * A shared limiter whose state the store lost, or whose start-up failed (it would reject
   * every job forever), is marked; the next call rebuilds it.
   */
  noteStoreError(bucket: Bucket, limiter: Bottleneck, error: unknown, fatal: boolean): void {
    if (!this.shared || bucket.limiter !== limiter || bucket.broken) return;
    if (!fatal && !this.shared.isLostState(error)) return;
    bucket.broken = error instanceof Error ? error.message : String(error);
  }

  /** Rebuilds a bucket marked broken; the old limiter is disconnected once its jobs are done. */
  heal(bucket: Bucket): void {
    const reason = bucket.broken;
    if (reason === undefined) return;
    this.retired.push(bucket.limiter);
    bucket.broken = undefined;
    bucket.limiter = this.newLimiter(bucket);
    this.shared?.onLimiterRecreated?.(bucket.key, reason);
  }

  /** Disconnects retired limiters with nothing left queued or running. */
  dropIdleRetired(): void {
    for (let index = this.retired.length - 1; index >= 0; index--) {
      const limiter = this.retired[index]!;
      const counts = limiter.counts();
      if (counts.RECEIVED + counts.QUEUED + counts.RUNNING + counts.EXECUTING > 0) continue;
      this.retired.splice(index, 1);
      void disconnectQuietly(limiter);
    }
  }

  /** Hands over every retired limiter, to be disconnected at shutdown. */
  takeRetired(): Bottleneck[] {
    return this.retired.splice(0);
  }

  /**
   * How the bucket refills. A bucket adds `rate × tick` every tick, fractions and all, unless
   * its store keeps whole reservoirs: then it adds whole permits, the largest whole amount one
   * tick holds (at least 1), every `amount / rate` milliseconds rounded up — never faster than
   * the configured rate.
   */
  private refillStep(
    ratePerMs: number,
  ): Pick<Bottleneck.ConstructorOptions, 'reservoirIncreaseInterval' | 'reservoirIncreaseAmount'> {
    if (!this.shared?.wholePermits) {
      return {
        // bottleneck's local heartbeat compares each beat with the previous one's time; a beat that
        // fires a millisecond early would skip its refill (halving the rate under timer jitter).
        // Beats are a full tick apart, so the looser interval still adds at most one step per tick.
        reservoirIncreaseInterval: this.tickMillis * LOCAL_INCREASE_INTERVAL_FRACTION,
        reservoirIncreaseAmount: ratePerMs * this.tickMillis,
      };
    }
    const amount = Math.max(1, Math.floor(ratePerMs * this.tickMillis));
    return { reservoirIncreaseInterval: Math.ceil(amount / ratePerMs), reservoirIncreaseAmount: amount };
  }

  /** The bucket's bottleneck, built by the store; a shared one's errors may mean its state was lost. */
  private newLimiter(bucket: Bucket): Bottleneck {
    const limiter = this.store.createLimiter(
      { limiterKey: bucket.key, bucket: bucket.name, refillMillis: bucket.refillMs },
      bucket.options,
    );
    if (!this.shared) return limiter;
    limiter.on('error', (error: unknown) => this.noteStoreError(bucket, limiter, error, false));
    limiter.ready().catch((error: unknown) => this.noteStoreError(bucket, limiter, error, true));
    return limiter;
  }
}

/** Stops a limiter's timers. A limiter on a shared store's connection returns nothing from `disconnect()`. */
export async function disconnectQuietly(limiter: Bottleneck): Promise<void> {
  try {
    await limiter.disconnect(false);
  } catch (error) {
    // Already disconnected, or the store is gone: nothing left to stop, but worth a line when debugging a shutdown.
    diag.debug(
      `tollgate: a rate limiter did not disconnect cleanly: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
