import type Bottleneck from 'bottleneck';
import { RateLimitedError } from '../errors/rate-limited-error';
import type { CallPriority } from '../scope/scope';
import { abortable, abortableSleep } from './bounded-wait';
import { type Bucket, BucketFactory, disconnectQuietly } from './bucket-factory';
import { type HeldPermitContext, takeHeldPermit } from './held-permit';
import { type LimiterSet, LimiterSets } from './limiter-set';
import type { LimiterStore, SharedLimiterStore } from './limiter-store';
import type { LimiterUpdateFailureReporter } from './limiter-update-failure';
import { memoryLimiterStore } from './memory-limiter-store';
import { concurrencySlot, leasedSlot, NO_SLOT, type Slot } from './permit-slots';
import { backoffKeyOf, ProviderBackoff } from './provider-backoff';
import type { ProviderFeedback } from './provider-feedback';
import type { NormalizedRateLimit, RuleSubject } from './rate-limit-rules';

/** What the limiter needs to know about a call. */
export interface LimiterRequest extends RuleSubject {
  /** Estimated input tokens plus maximum output tokens (times `n`). */
  weightTokens: number;
  priority: CallPriority;
}

/** Capacity held by an admitted call. */
export interface LimiterPermit {
  /** Time spent queued before admission. */
  readonly waitMillis: number;
  /** Limiters that admitted the call. */
  readonly limiterKeys: readonly string[];
  /** The call finished (whatever its outcome): free its concurrency slots. */
  release(): void;
  /** The call was never sent: also return the bucket capacity it took. */
  refund(): void;
}

export interface RateLimiterOptions {
  /**
   * How often buckets refill. bottleneck adds capacity only on its heartbeat, so this is
   * also the refill granularity, and the longest a leased permit stays unused.
   * @default 250
   */
  refillIntervalMillis?: number;
  /** Queue wait for calls that match no rule but hit a provider back-off. @default 10_000 */
  defaultMaxWaitMillis?: number;
  /**
   * Where the buckets live. A shared store lets every process draw from the same buckets; its
   * heartbeat replaces `refillIntervalMillis`.
   * @default local buckets, private to this process
   */
  datastore?: LimiterStore;
}

/** What one bucket holds for inspection (tests, debugging). */
export interface BucketSnapshot {
  /** bottleneck's reservoir now; `null` for a bucket without a rate. */
  reservoir: number | null;
  /** Permits this process has leased and not yet used. */
  leasedUnused: number;
  /** Permits used by admitted calls that the lease has yet to take from bottleneck (process-local buckets). */
  owed: number;
  /** Lease jobs run against bottleneck so far. */
  leasesTaken: number;
  /** Permits handed back to bottleneck so far (unused, expired or refunded). */
  permitsReturned: number;
}

const PRIORITY: Record<CallPriority, number> = { interactive: 3, background: 7 };

const NO_LIMIT: LimiterPermit = Object.freeze({ waitMillis: 0, limiterKeys: [], release() {}, refund() {} });

/** One call's walk through its buckets, and the slots it holds so far. */
interface BucketCall {
  request: LimiterRequest;
  signal: AbortSignal | undefined;
  sets: LimiterSet[];
  priority: number;
  startedMs: number;
  deadlineMs: number;
  held: Slot[];
}

/** The permit for the slots a call took in every bucket of its sets. */
function heldPermit({ sets, held, startedMs, signal }: BucketCall): LimiterPermit {
  // Aborted while the last step resolved: the call goes nowhere, so nothing stays taken.
  signal?.throwIfAborted();
  return {
    waitMillis: Date.now() - startedMs,
    limiterKeys: sets.length === 1 ? sets[0]!.keys : sets.map((set) => set.key),
    // Methods, not arrow properties: the build names every arrow bound to a name, once per call.
    release() {
      for (const slot of held) slot.release();
    },
    refund() {
      for (const slot of held) slot.refund();
    },
  };
}

/**
 * Client-side rate limiting on bottleneck. Each matching rule contributes a request
 * bucket (RPM, weight 1), a token bucket (TPM, weighted by the call's estimated tokens) and
 * a concurrency limit (`maxConcurrent`, held for the call's whole duration). Buckets refill
 * smoothly — `reservoirIncreaseAmount` every heartbeat, capped at the burst size — which is
 * token-bucket behaviour.
 *
 * Rate buckets are drawn through a `PermitLease`: bottleneck remains the source of truth
 * (every permit is taken from its reservoir by a bottleneck job), but one job takes permits
 * for many calls, so an admission that finds permits at hand costs no timer hop. In a
 * process-local limiter, `maxConcurrent` is an exact in-process count; with a shared
 * store it stays a per-call bottleneck job held until the call ends, so it is exact
 * across the fleet.
 */
export class RateLimiter {
  private readonly store: LimiterStore;
  /** The store when other processes share its buckets: calls then also wait on, and fail with, the store. */
  private readonly shared: SharedLimiterStore | undefined;
  private readonly buckets: BucketFactory;
  private readonly sets: LimiterSets;
  private readonly backoff: ProviderBackoff;
  /** What per-call held jobs need; only a shared store has them. */
  private readonly held: HeldPermitContext | undefined;
  private readonly defaultMaxWaitMillis: number;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    rules: readonly NormalizedRateLimit[],
    options: RateLimiterOptions = {},
    /** Where failed bucket updates are reported (the guard turns them into an event and a `diag` warning). */
    reportUpdateFailure: LimiterUpdateFailureReporter = () => {},
  ) {
    this.store = options.datastore ?? memoryLimiterStore;
    this.shared = this.store.shared ? this.store : undefined;
    const tickMillis = this.shared?.heartbeatIntervalMillis ?? options.refillIntervalMillis ?? 250;
    this.buckets = new BucketFactory(this.store, tickMillis);
    this.sets = new LimiterSets(rules, this.buckets, this.shared, tickMillis, reportUpdateFailure);
    this.backoff = new ProviderBackoff(this.store, this.buckets, reportUpdateFailure);
    const sets = this.sets;
    this.held = this.shared && {
      store: this.shared,
      buckets: this.buckets,
      reportUpdateFailure,
      waitExceeded: (set, bucket, weight, aheadWeight) => sets.waitExceeded(set, bucket, weight, aheadWeight),
    };
    this.defaultMaxWaitMillis = options.defaultMaxWaitMillis ?? 10_000;
    this.sweepTimer = setInterval(() => this.dropIdle(Date.now()), 60_000);
    this.sweepTimer.unref();
  }

  /**
   * Waits for capacity in every bucket that applies to the call, or rejects with
   * `RateLimitedError`: at once when the call can never fit or the provider asked to back
   * off longer than the call may wait, otherwise after `maxWaitMillis` in the queue. An abort
   * of `signal` while waiting rejects at once with the signal's reason, takes the call out of
   * every queue and returns whatever it already took.
   */
  acquire(request: LimiterRequest, signal?: AbortSignal): Promise<LimiterPermit> {
    try {
      const taken = this.take(request, signal);
      return taken instanceof Promise ? taken : Promise.resolve(taken);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `acquire()` without a promise when none is needed: the permit itself when every bucket
   * answers at once (permits at hand, no back-off, no store to wait for) — most calls — else a
   * promise of it. Throws (rather than rejects) what it can tell at once.
   */
  take(request: LimiterRequest, signal?: AbortSignal): LimiterPermit | Promise<LimiterPermit> {
    signal?.throwIfAborted();
    const startedMs = Date.now();
    const sets = this.sets.matching(request);
    const backoffMs = this.backoff.remainingMillis(request, startedMs);
    if (sets.length === 0 && backoffMs <= 0) return NO_LIMIT;

    let maxWaitMillis = this.defaultMaxWaitMillis;
    if (sets.length > 0) {
      maxWaitMillis = Number.POSITIVE_INFINITY;
      for (const set of sets) maxWaitMillis = Math.min(maxWaitMillis, set.rule.maxWaitMillis);
    }
    for (const set of sets) {
      const capacity = set.rule.burstTokens;
      if (set.tokens && capacity !== undefined && request.weightTokens > capacity) {
        throw new RateLimitedError(
          set.key,
          'weight-exceeds-capacity',
          Number.POSITIVE_INFINITY,
          `the call weighs ${request.weightTokens} tokens (estimated input + maximum output) but the token bucket ` +
            `holds at most ${capacity} (tpm ${set.rule.tpm}); set the request's output cap (max_tokens / ` +
            "max_completion_tokens / max_output_tokens) or the guard's defaultMaxOutputTokens — without either, " +
            "the model's maximum output is reserved — or raise the limit",
        );
      }
    }
    if (backoffMs > 0 || (this.shared && sets.length > 0 && !this.shared.isAvailable())) {
      return this.pauseThenTake(request, signal, sets, startedMs, maxWaitMillis, backoffMs);
    }
    return this.takeBuckets(request, signal, sets, startedMs, maxWaitMillis);
  }

  /** A store that does not answer, or a provider back-off: wait for either (within bounds), then take. */
  private async pauseThenTake(
    request: LimiterRequest,
    signal: AbortSignal | undefined,
    sets: LimiterSet[],
    startedMs: number,
    maxWaitMillis: number,
    backoffMs: number,
  ): Promise<LimiterPermit> {
    if (this.shared && sets.length > 0 && !this.shared.isAvailable()) {
      if (!(await this.storeAnswers(this.shared, sets[0]!, maxWaitMillis, signal))) sets = [];
    }
    if (backoffMs > 0) {
      if (backoffMs > maxWaitMillis) {
        throw new RateLimitedError(
          backoffKeyOf(request),
          'provider-backoff',
          backoffMs,
          `the provider asked clients to wait ${backoffMs} ms, longer than maxWaitMillis (${maxWaitMillis})`,
        );
      }
      await abortableSleep(backoffMs, signal);
    }
    return this.takeBuckets(request, signal, sets, startedMs, maxWaitMillis);
  }

  /**
   * Token buckets first, then requests, then concurrency: no slot is held while waiting for rate
   * capacity. Synchronous while this process holds the permits; from the first step that must
   * queue on, a promise. Whatever fails or is aborted on the way hands back what was taken.
   */
  private takeBuckets(
    request: LimiterRequest,
    signal: AbortSignal | undefined,
    sets: LimiterSet[],
    startedMs: number,
    maxWaitMillis: number,
  ): LimiterPermit | Promise<LimiterPermit> {
    const call: BucketCall = {
      request,
      signal,
      sets,
      priority: PRIORITY[request.priority],
      startedMs,
      deadlineMs: startedMs + maxWaitMillis,
      held: [],
    };
    let pending: Promise<void> | undefined;
    try {
      pending = this.takeSteps(call, 0);
      if (pending === undefined) return heldPermit(call);
    } catch (error) {
      for (const slot of call.held) slot.refund();
      throw error;
    }
    return pending
      .then(() => heldPermit(call))
      .catch((error: unknown) => {
        for (const slot of call.held) slot.refund();
        throw error;
      });
  }

  /** Steps `from` onwards (three per set: tokens, requests, concurrency); a promise from the first that waits. */
  private takeSteps(call: BucketCall, from: number): Promise<void> | undefined {
    const { sets } = call;
    for (let step = from; step < sets.length * 3; step++) {
      const taken = this.takeStep(call, Math.floor(step / sets.length), sets[step % sets.length]!);
      if (taken === undefined) continue;
      if (taken instanceof Promise) {
        return taken.then((slot) => {
          call.held.push(slot);
          return this.takeSteps(call, step + 1);
        });
      }
      call.held.push(taken);
    }
    return undefined;
  }

  private takeStep(call: BucketCall, kind: number, set: LimiterSet): Slot | Promise<Slot> | undefined {
    const { priority, deadlineMs, signal } = call;
    if (kind === 0) {
      return set.tokens
        ? this.takeFrom(set, set.tokens, call.request.weightTokens, priority, deadlineMs, signal)
        : undefined;
    }
    if (kind === 1) {
      if (!set.requests) return undefined;
      signal?.throwIfAborted();
      return this.takeFrom(set, set.requests, 1, priority, deadlineMs, signal);
    }
    const slots = set.slots;
    if (!slots) return undefined;
    signal?.throwIfAborted();
    if (slots.tryTake()) return concurrencySlot(slots);
    return slots
      .take(
        priority,
        deadlineMs,
        () =>
          new RateLimitedError(
            set.key,
            'max-wait-exceeded',
            set.rule.maxWaitMillis,
            `waited ${set.rule.maxWaitMillis} ms (maxWaitMillis) for one of ${slots.maxConcurrent} concurrent slots`,
          ),
        signal,
      )
      .then(() => concurrencySlot(slots));
  }

  /**
   * Folds a provider's view of its limits into the local buckets: a `retry-after` pauses the
   * model, exhausted remaining capacity pauses it until the provider's reset, and a remaining
   * count below the local bucket (leased permits included) shrinks the bucket to match.
   */
  applyFeedback(feedback: ProviderFeedback): Promise<void> {
    return this.backoff.apply(feedback, this.sets.existing(feedback));
  }

  /**
   * The state of one limiter's buckets, for tests and debugging: bottleneck's reservoir and
   * what this process holds leased.
   */
  async inspect(
    limiterKey: string,
  ): Promise<{ requests?: BucketSnapshot; tokens?: BucketSnapshot; running?: number } | undefined> {
    const set = this.sets.get(limiterKey);
    if (!set) return undefined;
    const snapshot = async (bucket: Bucket): Promise<BucketSnapshot> => ({
      reservoir: await bucket.limiter.currentReservoir(),
      leasedUnused: bucket.lease?.unused ?? 0,
      owed: bucket.lease?.owed ?? 0,
      leasesTaken: bucket.lease?.leasesTaken ?? 0,
      permitsReturned: bucket.lease?.permitsReturned ?? 0,
    });
    return {
      ...(set.requests ? { requests: await snapshot(set.requests) } : {}),
      ...(set.tokens ? { tokens: await snapshot(set.tokens) } : {}),
      ...(set.slots ? { running: set.slots.running } : {}),
    };
  }

  /** Stops every limiter's timers. Queued calls are refused; call this at shutdown. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    const limiters: Bottleneck[] = [...this.sets.close(), ...this.buckets.takeRetired()];
    await Promise.all(limiters.map((limiter) => disconnectQuietly(limiter)));
    await this.store.close?.();
  }

  /**
   * A shared store that is not connected: waits for it only within the store's bound (and the
   * call's own wait), rather than queue behind a store that cannot answer.
   * @returns whether it answers; `false` lets the call through without shared limits (fail-open).
   */
  private async storeAnswers(
    store: SharedLimiterStore,
    first: LimiterSet,
    maxWaitMillis: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const boundMs = Math.min(store.commandTimeoutMillis, maxWaitMillis);
    const connected = store.whenAvailable ? await abortable(store.whenAvailable(boundMs), signal) : false;
    if (connected) return true;
    const failure = store.onStoreFailure(store.describeFailure('not-connected', boundMs), first.key);
    if (failure) throw failure;
    return false;
  }

  /** Takes `weight` from a bucket: synchronously from leased permits when it can, else by queueing. */
  private takeFrom(
    set: LimiterSet,
    bucket: Bucket,
    weight: number,
    priority: number,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Slot | Promise<Slot> {
    bucket.lastUsedMs = Date.now();
    const lease = bucket.lease;
    // Only a shared store makes a bucket without a lease: its concurrency, held per call.
    if (!lease) return takeHeldPermit(this.held!, { set, bucket, weight, priority, deadlineMs, signal });
    if (lease.tryTake(weight, priority)) return leasedSlot(lease, weight);
    return lease
      .take(weight, priority, deadlineMs, signal)
      .then((grant) => (grant === 'leased' ? leasedSlot(lease, weight) : NO_SLOT));
  }

  private dropIdle(nowMs: number): void {
    this.sets.dropIdle(nowMs);
    this.backoff.sweep(nowMs);
    this.buckets.dropIdleRetired();
  }
}
