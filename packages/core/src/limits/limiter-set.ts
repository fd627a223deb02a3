import Bottleneck from 'bottleneck';
import { RateLimitedError } from '../errors/rate-limited-error';
import { type Bucket, type BucketFactory, disconnectQuietly } from './bucket-factory';
import { ConcurrencySlots } from './concurrency-slots';
import type { SharedLimiterStore } from './limiter-store';
import type { LimiterUpdateFailureReporter } from './limiter-update-failure';
import { PermitLease } from './permit-lease';
import { limiterKey, matchModel, type NormalizedRateLimit, type RuleSubject } from './rate-limit-rules';

/** The buckets one rule keeps for one limiter key (model, and tenant with `per`). */
export interface LimiterSet {
  readonly key: string;
  /** `[key]`, shared by every permit of this set alone. */
  readonly keys: readonly string[];
  readonly rule: NormalizedRateLimit;
  readonly requests: Bucket | undefined;
  readonly tokens: Bucket | undefined;
  /** `maxConcurrent` of a process-local limiter: an exact in-process count. */
  readonly slots: ConcurrencySlots | undefined;
}

/**
 * The limiter sets in use, created on a key's first call and dropped once idle. With a
 * shared store, concurrency stays in bottleneck (per-call held jobs) so it is exact across
 * processes; locally it is an in-process count.
 */
export class LimiterSets {
  private readonly sets = new Map<string, LimiterSet>();

  constructor(
    private readonly rules: readonly NormalizedRateLimit[],
    private readonly buckets: BucketFactory,
    private readonly shared: SharedLimiterStore | undefined,
    /** The refill tick, for leases and wait estimates. */
    private readonly tickMillis: number,
    private readonly reportUpdateFailure: LimiterUpdateFailureReporter,
  ) {}

  /** The set of every rule that applies to the call, created on first use; broken shared buckets are rebuilt. */
  matching(call: RuleSubject): LimiterSet[] {
    const sets: LimiterSet[] = [];
    for (const rule of this.rules) {
      const model = matchModel(rule, call);
      if (model === undefined) continue;
      const key = limiterKey(rule, model, call.tenant);
      let set = this.sets.get(key);
      if (!set) {
        set = this.createSet(key, rule);
        this.sets.set(key, set);
      }
      if (set.requests?.broken) this.buckets.heal(set.requests);
      if (set.tokens?.broken) this.buckets.heal(set.tokens);
      sets.push(set);
    }
    return sets;
  }

  /** The sets that apply to the call and exist already (provider feedback never creates one). */
  existing(call: RuleSubject): LimiterSet[] {
    return this.rules.flatMap((rule) => {
      const model = matchModel(rule, call);
      const set = model === undefined ? undefined : this.sets.get(limiterKey(rule, model, call.tenant));
      return set ? [set] : [];
    });
  }

  get(key: string): LimiterSet | undefined {
    return this.sets.get(key);
  }

  /** The refusal of a call that waited its whole `maxWaitMillis`; `aheadWeight` includes its own. */
  waitExceeded(set: LimiterSet, bucket: Bucket, weight: number, aheadWeight: number): RateLimitedError {
    const what = bucket === set.tokens ? `${weight} tokens` : 'one request';
    return new RateLimitedError(
      set.key,
      'max-wait-exceeded',
      this.estimateWait(bucket, aheadWeight, set.rule.maxWaitMillis),
      `waited ${set.rule.maxWaitMillis} ms (maxWaitMillis) without capacity for ${what}`,
    );
  }

  /** Forgets sets with nothing queued, running or leased once they would have refilled completely anyway. */
  dropIdle(nowMs: number): void {
    for (const [key, set] of this.sets) {
      const buckets = [set.requests, set.tokens].filter((bucket): bucket is Bucket => bucket !== undefined);
      const idle =
        !set.slots?.busy &&
        buckets.every((bucket) => {
          const counts = bucket.limiter.counts();
          const busy = counts.RECEIVED + counts.QUEUED + counts.RUNNING + counts.EXECUTING;
          const leased = bucket.lease ? bucket.lease.busy || bucket.lease.unused > 0 : false;
          return busy === 0 && !leased && nowMs - bucket.lastUsedMs > bucket.refillMs;
        });
      if (!idle) continue;
      this.sets.delete(key);
      for (const bucket of buckets) {
        bucket.lease?.close();
        void disconnectQuietly(bucket.limiter);
      }
    }
  }

  /** Closes every lease and fails queued callers. @returns the limiters, to be disconnected. */
  close(): Bottleneck[] {
    const limiters: Bottleneck[] = [];
    const closed = new Bottleneck.BottleneckError('The limiter was closed');
    for (const set of this.sets.values()) {
      for (const bucket of [set.requests, set.tokens]) {
        if (!bucket) continue;
        bucket.lease?.close();
        limiters.push(bucket.limiter);
      }
      set.slots?.close(closed);
    }
    this.sets.clear();
    return limiters;
  }

  /** Time for the bucket to refill `aheadWeight` (the weight queued ahead plus this call's), at least one refill tick. */
  private estimateWait(bucket: Bucket, aheadWeight: number, fallbackMs: number): number {
    if (bucket.ratePerMs === undefined) return fallbackMs;
    return Math.max(this.tickMillis, Math.ceil(aheadWeight / bucket.ratePerMs));
  }

  private createSet(key: string, rule: NormalizedRateLimit): LimiterSet {
    const sharedConcurrency = this.shared !== undefined ? rule.maxConcurrent : undefined;
    const set: LimiterSet = {
      key,
      keys: Object.freeze([key]),
      rule,
      requests:
        rule.rpm !== undefined || sharedConcurrency !== undefined
          ? this.buckets.create(key, 'requests', rule.rpm, rule.burstRequests, sharedConcurrency)
          : undefined,
      tokens:
        rule.tpm !== undefined
          ? this.buckets.create(key, 'tokens', rule.tpm, rule.burstTokens, undefined)
          : undefined,
      slots:
        this.shared === undefined && rule.maxConcurrent !== undefined
          ? new ConcurrencySlots(rule.maxConcurrent)
          : undefined,
    };
    if (set.tokens) set.tokens.lease = this.createLease(set, set.tokens);
    if (set.requests?.ratePerMs !== undefined && sharedConcurrency === undefined) {
      set.requests.lease = this.createLease(set, set.requests);
    }
    return set;
  }

  private createLease(set: LimiterSet, bucket: Bucket): PermitLease {
    const shared = this.shared;
    const buckets = this.buckets;
    return new PermitLease(
      {
        get limiter() {
          return bucket.limiter;
        },
        capacity: bucket.capacity ?? 0,
        ratePerMs: bucket.ratePerMs ?? 0,
        // A process-local bucket has no other consumer; a shared one is drawn by the whole fleet.
        exclusive: shared === undefined,
      },
      this.tickMillis,
      {
        timedOut: (weight, aheadWeight) => this.waitExceeded(set, bucket, weight, aheadWeight),
        giveBackFailed: (operation, weight, error) => {
          buckets.noteStoreError(bucket, bucket.limiter, error, false);
          this.reportUpdateFailure({ limiterKey: set.key, bucket: bucket.name, operation, weight, error });
        },
        ...(shared
          ? {
              storeFailed: (error: unknown, limiter: Bottleneck) => {
                buckets.noteStoreError(bucket, limiter, error, false);
                return shared.onStoreFailure(error, set.key);
              },
              store: shared,
            }
          : {}),
      },
    );
  }
}
