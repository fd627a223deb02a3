import Bottleneck from 'bottleneck';
import { abortReason } from './bounded-wait';
import { LeaseDemand, maxUnusedPermits, SLACK_FRACTION } from './lease-demand';
import { type LeasedBucket, LeaseJobs } from './lease-jobs';
import { type LeaseGrant, LeaseQueue } from './lease-queue';
import { LeasedPermits } from './leased-permits';
import type { StoreHealth } from './wait-deadline';

/**
 * An exclusive lease collects the permits it admitted on credit this long after the first
 * one (or at once when the bucket's known slack runs low): one bottleneck job per batch,
 * run from a timer rather than on a call's path.
 */
export const DEBT_COLLECT_MILLIS = 25;

/** Callbacks that turn a lease's trouble into the caller's error. */
export interface LeaseHandlers {
  /** A waiter's deadline passed; `aheadWeight` is the weight queued before it, its own included. */
  timedOut(weight: number, aheadWeight: number): Error;
  /**
   * The shared store failed while a lease was being taken: the error waiters get, or
   * `undefined` to let them through without the shared limit (fail-open).
   */
  storeFailed?(error: unknown, limiter: Bottleneck): Error | undefined;
  /** A shared store's health: waiters do not wait on a lease job behind a store that stopped answering. */
  readonly store?: StoreHealth;
  /**
   * Permits could not be handed back to the bucket (store unreachable, script error): the
   * bucket holds less than it should until it refills. Reported, never thrown.
   */
  giveBackFailed(operation: 'give-back' | 'refund', weight: number, error: unknown): void;
}

/** bottleneck priority of a lease job that only collects permits owed for admitted calls (its most urgent). */
const PRIORITY_OF_DEBT = 0;

/**
 * Permits leased from one bottleneck bucket in adaptive batches. bottleneck stays the
 * source of truth: every permit a call uses is taken out of the bucket by one bottleneck
 * job of weight N. Calls draw from the local lease synchronously; calls that find it empty
 * queue here, by priority, while one lease job at a time asks bottleneck for what they need.
 * An exclusive lease (process-local limiter) that knows the bucket holds enough admits a
 * call at once and collects its permits with a later lease job: the bucket held them when
 * the call went, so nothing is admitted that bottleneck would not have admitted then.
 * Unused permits go back with `incrementReservoir` after a short idle, or when they have
 * been held one refill tick.
 *
 * Batch size adapts: a lease covers the queued callers, never more than the bucket had
 * left after the previous lease; extra permits for future calls (prefetch, `LeaseDemand`)
 * are taken only while the bucket has slack. When the limit binds, the bucket is near
 * empty after every lease, so leases shrink to one caller's weight: per-call scheduling,
 * as without leases.
 */
export class PermitLease {
  private readonly permits: LeasedPermits;
  private readonly queue: LeaseQueue;
  private readonly demand: LeaseDemand;
  private readonly jobs: LeaseJobs;
  /** Permits drawn on credit (exclusive lease) that a lease job has yet to take from the bucket. */
  private owedWeight = 0;
  private debtTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Most permits held unused at once. */
  readonly maxUnused: number;

  constructor(
    private readonly bucket: LeasedBucket,
    private readonly tickMillis: number,
    handlers: LeaseHandlers,
  ) {
    this.maxUnused = maxUnusedPermits(bucket.capacity, bucket.ratePerMs, tickMillis);
    this.demand = new LeaseDemand(bucket.capacity, this.maxUnused);
    this.queue = new LeaseQueue({
      outstanding: () => this.jobs.outstanding,
      abandon: (job) => this.jobs.abandon(job),
      timedOut: (weight, aheadWeight) => handlers.timedOut(weight, aheadWeight),
      ...(handlers.storeFailed ? { storeFailed: handlers.storeFailed } : {}),
      left: () => this.pump(),
    });
    this.permits = new LeasedPermits({
      giveBack: (weight) => this.jobs.giveBack(weight, this.bucket.limiter, 'give-back'),
      hasWaiters: () => this.queue.length > 0,
    });
    this.jobs = new LeaseJobs(bucket, handlers.store, {
      granted: (weight, limiter, nowMs) => this.granted(weight, limiter, nowMs),
      settled: () => this.pump(),
      failed: (error, limiter) => this.queue.failAll(error, limiter),
      giveBackFailed: (operation, weight, error) => handlers.giveBackFailed(operation, weight, error),
    });
  }

  /** Permits leased and not yet drawn. */
  get unused(): number {
    return this.permits.unused;
  }

  /** Permits drawn on credit and not yet taken from the bucket (exclusive lease). */
  get owed(): number {
    return this.owedWeight;
  }

  /** Whether callers wait, a lease job is outstanding or permits are owed to the bucket. */
  get busy(): boolean {
    return this.queue.length > 0 || this.jobs.outstanding !== undefined || this.owedWeight > 0;
  }

  /** Lease jobs run against bottleneck so far. */
  get leasesTaken(): number {
    return this.jobs.leasesTaken;
  }

  /** Permits handed back to bottleneck so far (unused, expired or refunded). */
  get permitsReturned(): number {
    return this.jobs.permitsReturned;
  }

  /**
   * Draws `weight` at once if nobody is queued ahead and the lease holds it — or, for an
   * exclusive lease, the bucket is known to hold it (a later lease job collects the permits).
   */
  tryTake(weight: number, priority: number): boolean {
    if (this.queue.length > 0 || this.closed) return false;
    const nowMs = Date.now();
    this.permits.expire(nowMs);
    const unused = this.permits.unused;
    if (unused >= weight) {
      this.draw(weight, nowMs);
      // An exclusive lease never needs permits in hand before a call: it admits on credit.
      if (!this.bucket.exclusive) this.maybePrefetch(priority);
      return true;
    }
    const short = weight - unused;
    if (!this.bucket.exclusive || this.knownFree() < short) return false;
    this.draw(unused, nowMs);
    this.owedWeight += short;
    this.demand.credited(short);
    this.scheduleDebtCollection();
    return true;
  }

  /**
   * Queues for `weight` until `deadlineMs`; rejects with the handlers' errors. An abort of
   * `signal` takes the waiter out of the queue at once and rejects with the signal's reason.
   */
  take(weight: number, priority: number, deadlineMs: number, signal?: AbortSignal): Promise<LeaseGrant> {
    if (this.closed) return Promise.reject(new Bottleneck.BottleneckError('The limiter was closed'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const waiting = this.queue.wait(weight, priority, deadlineMs, signal);
    this.pump();
    return waiting;
  }

  /** A drawn permit was never used (the call was not sent): it goes back to the bucket. */
  refund(weight: number): void {
    this.jobs.giveBack(weight, this.bucket.limiter, 'refund');
  }

  /**
   * The provider says only `remaining` more calls (or tokens) may go now. Leased permits
   * beyond that are dropped (not returned — they are gone); what is left of `remaining`
   * after the permits this process still holds is the most the bucket itself may keep.
   * Synchronous, so concurrent replies each compute the same ceiling, never a sum of excesses.
   * @returns the ceiling for the bucket's reservoir: `remaining − unused + owed`, never negative.
   */
  ceilingFor(remaining: number): number {
    // Permits owed are already spent by admitted calls; the bucket pays them when collected.
    const tooMany = this.permits.unused - (remaining + this.owedWeight);
    if (tooMany > 0) {
      this.permits.consume(tooMany);
      this.permits.trimEmpty();
    }
    const ceiling = remaining - this.permits.unused + this.owedWeight;
    this.jobs.capKnown(ceiling);
    return ceiling;
  }

  /** Stops timers and fails queued callers; unused permits are returned. */
  close(): void {
    this.closed = true;
    clearTimeout(this.debtTimer);
    this.debtTimer = undefined;
    this.queue.rejectAll(new Bottleneck.BottleneckError('The limiter was closed'));
    this.jobs.close();
    this.permits.stop();
    this.owedWeight = 0;
  }

  /** Collects owed permits soon, in one batch; at once when what the bucket is known to hold runs low. */
  private scheduleDebtCollection(): void {
    if (this.jobs.outstanding || this.closed) return;
    if (this.knownFree() < this.bucket.capacity * SLACK_FRACTION) {
      clearTimeout(this.debtTimer);
      this.debtTimer = undefined;
      this.collectDebt(PRIORITY_OF_DEBT);
      return;
    }
    if (this.debtTimer) return;
    this.debtTimer = setTimeout(() => {
      this.debtTimer = undefined;
      if (!this.jobs.outstanding && !this.closed && this.owedWeight > 0) this.collectDebt(PRIORITY_OF_DEBT);
    }, DEBT_COLLECT_MILLIS);
    this.debtTimer.unref();
  }

  /** One lease job for the permits owed, plus a prefetch for the next calls where the bucket is known to hold it. */
  private collectDebt(priority: number): void {
    const prefetch = this.demand.prefetchTarget(this.jobs.lastKnownReservoir);
    const withPrefetch = Math.min(this.owedWeight + prefetch, this.jobs.lastKnownReservoir ?? 0);
    this.jobs.start(Math.max(this.owedWeight, withPrefetch), priority);
  }

  /** Serves queued callers from the lease, then starts one lease job for the first that cannot be served. */
  private pump(): void {
    const nowMs = Date.now();
    this.permits.expire(nowMs);
    while (this.queue.length > 0 && this.permits.unused >= this.queue.head!.weight) {
      this.draw(this.queue.serveHead()!.weight, nowMs);
    }
    if (this.jobs.outstanding || this.closed) return;
    // Permits owed for admitted calls are collected first, without the queued callers' needs:
    // the bucket is known to hold the debt (and any prefetch within the last read), so that
    // job never waits behind a refill the queued callers need.
    if (this.owedWeight > 0) {
      // Queued callers need a fresh read of the bucket: collect now. Otherwise batch it.
      if (this.queue.length > 0) this.collectDebt(PRIORITY_OF_DEBT);
      else this.scheduleDebtCollection();
      return;
    }
    const head = this.queue.head;
    if (!head) return;
    const unused = this.permits.unused;
    const needed = head.weight - unused;
    // Everyone queued, but no more than the bucket had left last time we looked: a lease
    // larger than the bucket holds would wait for refills the first caller does not need.
    const deficit = this.queue.weight - unused;
    let weight = Math.max(needed, Math.floor(Math.min(deficit, this.jobs.lastKnownReservoir ?? 0)));
    weight += this.prefetchWeight(weight);
    this.jobs.start(Math.min(weight, this.bucket.capacity), head.priority);
  }

  /**
   * What the bucket is known to hold beyond what this lease has asked for or owes: the last
   * read, less the outstanding lease job or the debt, whichever is larger (the job pays the
   * debt first).
   */
  private knownFree(): number {
    if (this.jobs.lastKnownReservoir === undefined) return 0;
    return this.jobs.lastKnownReservoir - Math.max(this.jobs.outstanding?.weight ?? 0, this.owedWeight);
  }

  /** After a draw from the lease: top it up early while the bucket has slack, so callers rarely queue. */
  private maybePrefetch(priority: number): void {
    if (this.jobs.outstanding || this.closed) return;
    const target = this.demand.prefetchTarget(this.jobs.lastKnownReservoir);
    if (target === 0 || this.permits.unused * 2 > target) return;
    this.jobs.start(target - this.permits.unused, priority);
  }

  /** Extra permits beyond what waiters need, when the bucket is not binding. */
  private prefetchWeight(needed: number): number {
    const target = this.demand.prefetchTarget(this.jobs.lastKnownReservoir);
    const free = Math.max(0, this.permits.unused + needed - this.queue.weight);
    return Math.max(0, target - free);
  }

  /** A lease job took `weight` from the bucket: permits owed for calls admitted on credit are paid first, the rest joins the lease. */
  private granted(weight: number, limiter: Bottleneck, nowMs: number): void {
    const paid = Math.min(this.owedWeight, weight);
    this.owedWeight -= paid;
    if (weight > paid) this.permits.add(weight - paid, nowMs + this.tickMillis);
    this.pump();
    // Never sit on more than `maxUnused` beyond what queued callers are about to take.
    const excess = this.permits.unused - Math.max(this.maxUnused, this.queue.weight);
    if (excess > 0) {
      this.permits.consume(excess);
      this.jobs.giveBack(excess, limiter);
    }
    this.permits.armReturn(nowMs);
  }

  private draw(weight: number, nowMs: number): void {
    this.permits.draw(weight, nowMs);
    this.demand.drawn(weight, nowMs);
  }
}
