import { diag } from '@opentelemetry/api';
import Bottleneck from 'bottleneck';
import { RateLimitedError } from '../errors/rate-limited-error';
import type { CallPriority } from '../scope/scope';
import { abortable, abortableSleep, abortReason, withinMillis } from './bounded-wait';
import { ConcurrencySlots } from './concurrency-slots';
import type { LimiterStore, SharedLimiterStore } from './limiter-store';
import type { LimiterUpdateFailure } from './limiter-update-failure';
import { memoryLimiterStore } from './memory-limiter-store';
import { DEADLINE_GRACE_MILLIS, PermitLease } from './permit-lease';
import type { ProviderFeedback } from './provider-feedback';
import type { RateLimitConfig } from './rate-limit-config';

/** A rate limit rule after validation, with every default filled in. */
export interface NormalizedRateLimit extends RateLimitConfig {
  models: readonly string[] | undefined;
  perTenant: boolean;
  maxWaitMillis: number;
}

/** What the limiter needs to know about a call. */
export interface LimiterRequest {
  provider: string;
  /** Model as requested. */
  model: string;
  /** The price table's canonical name for the model, when it has one; rules match either name. */
  canonicalModel?: string | undefined;
  tenant?: string | undefined;
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

/** Told when a bucket update (give-back, refund, provider-feedback shrink) could not be applied. */
export type LimiterUpdateFailureReporter = (failure: LimiterUpdateFailure) => void;

/** A local bucket's increase interval as a fraction of its heartbeat: tolerates beats that fire a little early. */
const LOCAL_INCREASE_INTERVAL_FRACTION = 0.8;

/** Unique bottleneck job ids, so a queued job's status can be looked up at its deadline. */
let jobCounter = 0;

/** A slot that holds nothing: the call was let through without a shared limit (fail-open). */
const NO_SLOT: Slot = Object.freeze({ release() {}, refund() {} });

/** One bottleneck instance and what this process does with it. */
interface Bucket {
  limiter: Bottleneck;
  /** Limiter key and bucket name, which name the shared state in a datastore. */
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

interface LimiterSet {
  readonly key: string;
  /** `[key]`, shared by every permit of this set alone. */
  readonly keys: readonly string[];
  readonly rule: NormalizedRateLimit;
  readonly requests: Bucket | undefined;
  readonly tokens: Bucket | undefined;
  /** `maxConcurrent` of a process-local limiter: an exact in-process count. */
  readonly slots: ConcurrencySlots | undefined;
}

interface Slot {
  release(): void;
  refund(): void;
}

const NO_LIMIT: LimiterPermit = Object.freeze({ waitMillis: 0, limiterKeys: [], release() {}, refund() {} });

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
 * datastore it stays a per-call bottleneck job held until the call ends, so it is exact
 * across the fleet.
 */
export class RateLimiter {
  private readonly sets = new Map<string, LimiterSet>();
  private readonly backoffUntil = new Map<string, number>();
  private readonly refillIntervalMillis: number;
  private readonly defaultMaxWaitMillis: number;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly store: LimiterStore;
  /** The store when other processes share its buckets: calls then also wait on, and fail with, the store. */
  private readonly shared: SharedLimiterStore | undefined;
  /** Shared limiters replaced after losing their state, disconnected once their jobs are done. */
  private readonly retired: Bottleneck[] = [];

  constructor(
    private readonly rules: readonly NormalizedRateLimit[],
    options: RateLimiterOptions = {},
    /** Where failed bucket updates are reported (the guard turns them into an event and a `diag` warning). */
    private readonly reportUpdateFailure: LimiterUpdateFailureReporter = () => {},
  ) {
    this.store = options.datastore ?? memoryLimiterStore;
    this.shared = this.store.shared ? this.store : undefined;
    this.refillIntervalMillis = this.shared?.heartbeatIntervalMillis ?? options.refillIntervalMillis ?? 250;
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
  async acquire(request: LimiterRequest, signal?: AbortSignal): Promise<LimiterPermit> {
    signal?.throwIfAborted();
    const startedMs = Date.now();
    let sets = this.setsFor(request);
    const backoffKey = `${request.provider}:${request.canonicalModel ?? request.model}`;
    const backoffMs = this.backoffUntil.size > 0 ? (this.backoffUntil.get(backoffKey) ?? 0) - startedMs : 0;
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
    if (this.shared && sets.length > 0 && !this.shared.isAvailable()) {
      // Not connected: wait for the connection only within the store's bound (and the call's
      // own wait), then decide, rather than queue behind a store that cannot answer.
      const datastore = this.shared;
      const boundMs = Math.min(datastore.commandTimeoutMillis, maxWaitMillis);
      const connected = datastore.whenAvailable
        ? await abortable(datastore.whenAvailable(boundMs), signal)
        : false;
      if (!connected) {
        const failure = datastore.onStoreFailure(
          datastore.describeFailure('not-connected', boundMs),
          sets[0]!.key,
        );
        if (failure) throw failure;
        sets = [];
      }
    }
    if (backoffMs > 0) {
      if (backoffMs > maxWaitMillis) {
        throw new RateLimitedError(
          backoffKey,
          'provider-backoff',
          backoffMs,
          `the provider asked clients to wait ${backoffMs} ms, longer than maxWaitMillis (${maxWaitMillis})`,
        );
      }
      await abortableSleep(backoffMs, signal);
    }

    const deadlineMs = startedMs + maxWaitMillis;
    const priority = PRIORITY[request.priority];
    const held: Slot[] = [];
    try {
      // Token buckets first, then requests, then concurrency: no slot is held while waiting for rate capacity.
      // Each step is synchronous when this process already holds the permits; it only awaits when it must queue.
      for (const set of sets) {
        if (!set.tokens) continue;
        const slot = this.takeFrom(set, set.tokens, request.weightTokens, priority, deadlineMs, signal);
        held.push(slot instanceof Promise ? await slot : slot);
      }
      for (const set of sets) {
        if (!set.requests) continue;
        signal?.throwIfAborted();
        const slot = this.takeFrom(set, set.requests, 1, priority, deadlineMs, signal);
        held.push(slot instanceof Promise ? await slot : slot);
      }
      for (const set of sets) {
        if (!set.slots) continue;
        signal?.throwIfAborted();
        const slots = set.slots;
        if (!slots.tryTake()) {
          await slots.take(
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
          );
        }
        held.push(concurrencySlot(slots));
      }
      // Aborted while the last step resolved: the call goes nowhere, so nothing stays taken.
      signal?.throwIfAborted();
    } catch (error) {
      for (const slot of held) slot.refund();
      throw error;
    }
    return {
      waitMillis: Date.now() - startedMs,
      limiterKeys: sets.length === 1 ? sets[0]!.keys : sets.map((set) => set.key),
      release: () => {
        for (const slot of held) slot.release();
      },
      refund: () => {
        for (const slot of held) slot.refund();
      },
    };
  }

  /**
   * Folds a provider's view of its limits into the local buckets: a `retry-after` pauses the
   * model, exhausted remaining capacity pauses it until the provider's reset, and a remaining
   * count below the local bucket (leased permits included) shrinks the bucket to match.
   */
  async applyFeedback(feedback: ProviderFeedback): Promise<void> {
    const nowMs = Date.now();
    const backoffKey = `${feedback.provider}:${feedback.model}`;
    const pauses = [
      feedback.retryAfterMillis,
      feedback.remainingRequests === 0 ? feedback.requestsResetMillis : undefined,
      feedback.remainingTokens === 0 ? feedback.tokensResetMillis : undefined,
    ].filter((value): value is number => value !== undefined && value > 0);
    if (pauses.length > 0) {
      const until = nowMs + Math.max(...pauses);
      if (until > (this.backoffUntil.get(backoffKey) ?? 0)) this.backoffUntil.set(backoffKey, until);
    }
    const request = { provider: feedback.provider, model: feedback.model, tenant: feedback.tenant };
    for (const set of this.existingSetsFor(request)) {
      await Promise.all([
        this.shrinkTo(set.requests, feedback.remainingRequests),
        this.shrinkTo(set.tokens, feedback.remainingTokens),
      ]);
    }
  }

  /**
   * Caps a bucket at what the provider says remains, less the permits this process holds:
   * one atomic "set the reservoir to min(current, remaining − held)". Concurrent replies each
   * set the same kind of ceiling, so however many arrive at once the bucket never goes below
   * the smallest (a relative decrement per reply would subtract the excess once per reply).
   */
  private async shrinkTo(bucket: Bucket | undefined, remaining: number | undefined): Promise<void> {
    if (!bucket || bucket.ratePerMs === undefined || remaining === undefined) return;
    // Nothing this process holds can be above the bucket size plus its lease: nothing to cap.
    if (bucket.capacity !== undefined && remaining >= bucket.capacity + (bucket.lease?.maxUnused ?? 0))
      return;
    // Whole permits only: a shared store may keep reservoirs as integers.
    const whole = Math.floor(remaining);
    // Synchronous: the lease's share is settled before any other reply can interleave.
    const ceiling = bucket.lease ? bucket.lease.ceilingFor(whole) : whole;
    const limiter = bucket.limiter;
    try {
      // A local cap is synchronous: nothing to wait for.
      const capped = this.store.capReservoir(limiter, ceiling);
      if (capped !== undefined) await capped;
    } catch (error) {
      this.noteStoreError(bucket, limiter, error, false);
      this.reportUpdateFailure({
        limiterKey: bucket.key,
        bucket: bucket.name,
        operation: 'shrink',
        weight: ceiling,
        error,
      });
    }
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
    limiters.push(...this.retired.splice(0));
    this.sets.clear();
    await Promise.all(limiters.map((limiter) => disconnectQuietly(limiter)));
    await this.store.close?.();
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
    if (!lease) return this.take(set, bucket, weight, priority, deadlineMs, true, signal);
    if (lease.tryTake(weight, priority)) return leasedSlot(lease, weight);
    return lease
      .take(weight, priority, deadlineMs, signal)
      .then((grant) => (grant === 'leased' ? leasedSlot(lease, weight) : NO_SLOT));
  }

  /** A per-call bottleneck job, held until the call ends: a shared concurrency bucket. */
  private take(
    set: LimiterSet,
    bucket: Bucket,
    weight: number,
    priority: number,
    deadlineMs: number,
    holdUntilRelease: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Slot> {
    const datastore = this.shared;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Slot>((resolve, reject) => {
      let state: 'queued' | 'admitted' | 'abandoned' = 'queued';
      let finish: () => void = () => {};
      bucket.queuedWeight += weight;
      const giveBack = (operation: 'give-back' | 'refund') => {
        if (bucket.ratePerMs === undefined) return;
        const limiter = bucket.limiter;
        void limiter.incrementReservoir(weight).catch((error: unknown) => {
          this.noteStoreError(bucket, limiter, error, false);
          this.reportUpdateFailure({ limiterKey: set.key, bucket: bucket.name, operation, weight, error });
        });
      };
      const jobId = `tollgate-${++jobCounter}`;
      const onDeadline = () => {
        if (state !== 'queued') return;
        const status = bucket.limiter.jobStatus(jobId);
        if (status !== 'RECEIVED' && status !== 'QUEUED') return;
        // bottleneck admits through a few asynchronous steps: a job that would run now is not waiting
        // for capacity. Both the check and the retries are bounded: a store that never answers gets no longer.
        const graceMs = deadlineMs + DEADLINE_GRACE_MILLIS - Date.now();
        if (graceMs <= 0) {
          giveUp();
          return;
        }
        void withinMillis(bucket.limiter.check(weight), graceMs).then(
          (wouldRun) => (wouldRun ? retryShortly() : giveUp()),
          (error: unknown) => (datastore ? storeFailed(error) : giveUp()),
        );
      };
      const retryShortly = () => {
        timer = setTimeout(onDeadline, 2);
      };
      const giveUp = () => {
        if (state !== 'queued') return;
        // The job may have been admitted while the capacity check ran: then it is no longer waiting.
        const status = bucket.limiter.jobStatus(jobId);
        if (status !== 'RECEIVED' && status !== 'QUEUED') return;
        state = 'abandoned';
        clearTimeout(stallTimer);
        signal?.removeEventListener('abort', onAbort);
        bucket.queuedWeight -= weight;
        reject(
          new RateLimitedError(
            set.key,
            'max-wait-exceeded',
            this.estimateWait(bucket, bucket.queuedWeight + weight, set.rule.maxWaitMillis),
            `waited ${set.rule.maxWaitMillis} ms (maxWaitMillis) without capacity for ${describeWeight(weight, bucket, set)}`,
          ),
        );
      };
      /** The shared store did not take the call in time, or failed: the datastore's policy decides. */
      const storeFailed = (error: unknown) => {
        if (state !== 'queued' || !datastore) return;
        state = 'abandoned';
        clearTimeout(timer);
        clearTimeout(stallTimer);
        signal?.removeEventListener('abort', onAbort);
        bucket.queuedWeight -= weight;
        this.noteStoreError(bucket, bucket.limiter, error, false);
        const failure = datastore.onStoreFailure(error, set.key);
        if (failure) reject(failure);
        else resolve(NO_SLOT);
      };
      /** The caller gave up: out of the queue now; bottleneck hands the job's capacity back when it comes up. */
      const onAbort = () => {
        if (state !== 'queued') return;
        state = 'abandoned';
        clearTimeout(timer);
        clearTimeout(stallTimer);
        bucket.queuedWeight -= weight;
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let timer = setTimeout(onDeadline, Math.max(0, deadlineMs - Date.now()));
      // While a call waits, the store is checked every command timeout: a queue that is only
      // slow keeps waiting (up to maxWaitMillis), one behind a store that stopped answering fails now.
      let stallTimer: NodeJS.Timeout | undefined;
      const watchStore = () => {
        if (!datastore) return;
        stallTimer = setTimeout(() => {
          if (state !== 'queued') return;
          if (datastore.isAvailable()) watchStore();
          else storeFailed(datastore.describeFailure('stopped-answering', datastore.commandTimeoutMillis));
        }, datastore.commandTimeoutMillis);
      };
      watchStore();
      const expiration = datastore && holdUntilRelease ? { expiration: datastore.jobExpirationMillis } : {};
      bucket.limiter
        .schedule({ id: jobId, priority, weight, ...expiration }, () => {
          if (state === 'abandoned') {
            // bottleneck cannot cancel a queued job; when a timed-out or aborted one comes up, it returns its capacity at once.
            giveBack('give-back');
            return Promise.resolve();
          }
          clearTimeout(timer);
          clearTimeout(stallTimer);
          signal?.removeEventListener('abort', onAbort);
          state = 'admitted';
          bucket.queuedWeight -= weight;
          if (!holdUntilRelease) {
            resolve({ release() {}, refund: () => giveBack('refund') });
            return Promise.resolve();
          }
          return new Promise<void>((done) => {
            finish = done;
            let ended = false;
            resolve({
              release: () => {
                if (!ended) {
                  ended = true;
                  done();
                }
              },
              refund: () => {
                if (!ended) {
                  ended = true;
                  giveBack('refund');
                  done();
                }
              },
            });
          });
        })
        .catch((error: unknown) => {
          finish();
          if (state !== 'queued') return;
          if (datastore && !(error instanceof Bottleneck.BottleneckError)) {
            storeFailed(error);
            return;
          }
          clearTimeout(timer);
          clearTimeout(stallTimer);
          signal?.removeEventListener('abort', onAbort);
          state = 'abandoned';
          reject(error);
        });
    });
  }

  /** Time for the bucket to refill `aheadWeight` (the weight queued ahead plus this call's), at least one refill tick. */
  private estimateWait(bucket: Bucket, aheadWeight: number, fallbackMs: number): number {
    if (bucket.ratePerMs === undefined) return fallbackMs;
    return Math.max(this.refillIntervalMillis, Math.ceil(aheadWeight / bucket.ratePerMs));
  }

  private setsFor(
    request: Pick<LimiterRequest, 'provider' | 'model' | 'canonicalModel' | 'tenant'>,
  ): LimiterSet[] {
    const sets: LimiterSet[] = [];
    for (const rule of this.rules) {
      const model = matchModel(rule, request);
      if (model === undefined) continue;
      const key = limiterKey(rule, model, request.tenant);
      let set = this.sets.get(key);
      if (!set) {
        set = this.createSet(key, rule);
        this.sets.set(key, set);
      }
      if (set.requests?.broken) this.heal(set.requests);
      if (set.tokens?.broken) this.heal(set.tokens);
      sets.push(set);
    }
    return sets;
  }

  private existingSetsFor(request: Pick<LimiterRequest, 'provider' | 'model' | 'tenant'>): LimiterSet[] {
    return this.rules.flatMap((rule) => {
      const model = matchModel(rule, request);
      const set = model === undefined ? undefined : this.sets.get(limiterKey(rule, model, request.tenant));
      return set ? [set] : [];
    });
  }

  private createSet(key: string, rule: NormalizedRateLimit): LimiterSet {
    // Shared buckets keep concurrency in bottleneck (per-call held jobs), so it is exact across processes.
    const sharedConcurrency = this.shared !== undefined ? rule.maxConcurrent : undefined;
    const set: LimiterSet = {
      key,
      keys: Object.freeze([key]),
      rule,
      requests:
        rule.rpm !== undefined || sharedConcurrency !== undefined
          ? this.createBucket(key, 'requests', rule.rpm, rule.burstRequests, sharedConcurrency)
          : undefined,
      tokens:
        rule.tpm !== undefined
          ? this.createBucket(key, 'tokens', rule.tpm, rule.burstTokens, undefined)
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
    const datastore = this.shared;
    return new PermitLease(
      {
        get limiter() {
          return bucket.limiter;
        },
        capacity: bucket.capacity ?? 0,
        ratePerMs: bucket.ratePerMs ?? 0,
        // A process-local bucket has no other consumer; a shared one is drawn by the whole fleet.
        exclusive: datastore === undefined,
      },
      this.refillIntervalMillis,
      {
        timedOut: (weight, aheadWeight) =>
          new RateLimitedError(
            set.key,
            'max-wait-exceeded',
            this.estimateWait(bucket, aheadWeight, set.rule.maxWaitMillis),
            `waited ${set.rule.maxWaitMillis} ms (maxWaitMillis) without capacity for ${describeWeight(weight, bucket, set)}`,
          ),
        giveBackFailed: (operation, weight, error) => {
          this.noteStoreError(bucket, bucket.limiter, error, false);
          this.reportUpdateFailure({ limiterKey: set.key, bucket: bucket.name, operation, weight, error });
        },
        ...(datastore
          ? {
              storeFailed: (error: unknown, limiter: Bottleneck) => {
                this.noteStoreError(bucket, limiter, error, false);
                return datastore.onStoreFailure(error, set.key);
              },
              storeAvailable: () => datastore.isAvailable(),
              storeStopped: (boundMs: number) => datastore.describeFailure('stopped-answering', boundMs),
              storeCheckMillis: datastore.commandTimeoutMillis,
            }
          : {}),
      },
    );
  }

  private createBucket(
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
      // Not in bottleneck's typings, but read by its datastore: the heartbeat is the refill tick.
      heartbeatInterval: this.refillIntervalMillis,
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
        reservoirIncreaseInterval: this.refillIntervalMillis * LOCAL_INCREASE_INTERVAL_FRACTION,
        reservoirIncreaseAmount: ratePerMs * this.refillIntervalMillis,
      };
    }
    const amount = Math.max(1, Math.floor(ratePerMs * this.refillIntervalMillis));
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

  /**
   * A shared limiter whose state the store lost, or whose start-up failed (it would reject
   * every job forever), is marked; the next call rebuilds it.
   */
  private noteStoreError(bucket: Bucket, limiter: Bottleneck, error: unknown, fatal: boolean): void {
    if (!this.shared || bucket.limiter !== limiter || bucket.broken) return;
    if (!fatal && !this.shared.isLostState(error)) return;
    bucket.broken = error instanceof Error ? error.message : String(error);
  }

  private heal(bucket: Bucket): void {
    const reason = bucket.broken;
    if (reason === undefined) return;
    this.retired.push(bucket.limiter);
    bucket.broken = undefined;
    bucket.limiter = this.newLimiter(bucket);
    this.shared?.onLimiterRecreated?.(bucket.key, reason);
  }

  /** Forgets limiters with nothing queued, running or leased once they would have refilled completely anyway. */
  private dropIdle(nowMs: number): void {
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
    for (const [key, until] of this.backoffUntil) if (until <= nowMs) this.backoffUntil.delete(key);
    for (let index = this.retired.length - 1; index >= 0; index--) {
      const limiter = this.retired[index]!;
      const counts = limiter.counts();
      if (counts.RECEIVED + counts.QUEUED + counts.RUNNING + counts.EXECUTING > 0) continue;
      this.retired.splice(index, 1);
      void disconnectQuietly(limiter);
    }
  }
}

/** A permit drawn from a lease: nothing to hold; a refund hands it back to the bucket. */
function leasedSlot(lease: PermitLease, weight: number): Slot {
  let refunded = false;
  return {
    release() {},
    refund() {
      if (refunded) return;
      refunded = true;
      lease.refund(weight);
    },
  };
}

/** A concurrency slot, freed exactly once by release or refund. */
function concurrencySlot(slots: ConcurrencySlots): Slot {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    slots.release();
  };
  return { release: end, refund: end };
}

function matchModel(
  rule: NormalizedRateLimit,
  request: Pick<LimiterRequest, 'provider' | 'model' | 'canonicalModel'>,
): string | undefined {
  if (rule.provider !== request.provider) return undefined;
  const canonical = request.canonicalModel ?? request.model;
  if (!rule.models) return canonical;
  const requested = request.model.toLowerCase();
  return rule.models.find((model) => model === canonical || model === requested);
}

function limiterKey(rule: NormalizedRateLimit, model: string, tenant: string | undefined): string {
  const base = `${rule.provider}:${model}`;
  return rule.perTenant ? `${base}:tenant=${tenant ?? '(none)'}` : base;
}

function describeWeight(weight: number, bucket: Bucket, set: LimiterSet): string {
  return bucket === set.tokens ? `${weight} tokens` : 'one request';
}

/** Stops a limiter's timers. A limiter on a shared store's connection returns nothing from `disconnect()`. */
async function disconnectQuietly(limiter: Bottleneck): Promise<void> {
  try {
    await limiter.disconnect(false);
  } catch (error) {
    // Already disconnected, or the store is gone: nothing left to stop, but worth a line when debugging a shutdown.
    diag.debug(
      `tollgate: a rate limiter did not disconnect cleanly: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
