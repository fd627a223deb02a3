import Bottleneck from 'bottleneck';
import { abortReason, withinMillis } from './bounded-wait';

/**
 * Unused leased permits are handed back after this long without a draw. Short, so a
 * process that goes quiet does not sit on capacity other processes could use.
 */
export const LEASE_IDLE_MILLIS = 50;

/**
 * An exclusive lease collects the permits it admitted on credit this long after the first
 * one (or at once when the bucket's known slack runs low): one bottleneck job per batch,
 * run from a timer rather than on a call's path.
 */
export const DEBT_COLLECT_MILLIS = 25;

/** Prefetch targets this much of the demand observed over the last window. */
export const LEASE_HORIZON_MILLIS = 100;

/**
 * Upper bound on the permits one process holds unused, as a fraction of the bucket. The
 * other bound is one refill tick's worth (`rate × tick`); the smaller one applies.
 */
export const LEASE_MAX_UNUSED_FRACTION = 0.05;

/** A leased bucket is "not binding" while, after our last lease, at least this fraction of it was left. */
const SLACK_FRACTION = 0.5;

/**
 * How far past a waiter's deadline the lease may still look for a lease job that is about to
 * run (bottleneck admits through a few asynchronous steps). Past it the waiter gets its
 * answer whatever the store does: no wait exceeds `maxWaitMillis` by more than this.
 */
export const DEADLINE_GRACE_MILLIS = 100;

/** What a lease needs to know about the bottleneck bucket it draws from. */
export interface LeasedBucket {
  /** The bucket's bottleneck instance; it may be replaced (rebuilt after its shared state was lost). */
  readonly limiter: Bottleneck;
  /** Bucket size (burst). */
  readonly capacity: number;
  /** Refill rate in weight per millisecond. */
  readonly ratePerMs: number;
  /**
   * Only this lease draws from the bucket (a process-local limiter, created full): what it
   * last read of the reservoir, less what it has taken since, is a lower bound of what the
   * bucket holds, so a call can be admitted against permits the lease has yet to collect.
   */
  readonly exclusive: boolean;
}

/** Callbacks that turn a lease's trouble into the caller's error. */
export interface LeaseHandlers {
  /** A waiter's deadline passed; `aheadWeight` is the weight queued before it, its own included. */
  timedOut(weight: number, aheadWeight: number): Error;
  /**
   * The shared store failed while a lease was being taken: the error waiters get, or
   * `undefined` to let them through without the shared limit (fail-open).
   */
  storeFailed?(error: unknown, limiter: Bottleneck): Error | undefined;
  /** Whether the shared store answers now; waiters do not wait on one that does not. */
  storeAvailable?(): boolean;
  /** The error for a shared store that stopped answering within `boundMillis`. */
  storeStopped?(boundMillis: number): Error;
  /** How often a waiter re-checks that the store still answers. */
  readonly storeCheckMillis?: number;
  /**
   * Permits could not be handed back to the bucket (store unreachable, script error): the
   * bucket holds less than it should until it refills. Reported, never thrown.
   */
  giveBackFailed(operation: 'give-back' | 'refund', weight: number, error: unknown): void;
}

/** How a lease admitted a waiter: from leased permits, or unmetered after a store failure (fail-open). */
export type LeaseGrant = 'leased' | 'unmetered';

interface Chunk {
  remaining: number;
  expiresAtMs: number;
}

interface Waiter {
  readonly weight: number;
  readonly priority: number;
  readonly sequence: number;
  readonly deadlineMs: number;
  resolve(grant: LeaseGrant): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

interface PendingLease {
  readonly weight: number;
  readonly limiter: Bottleneck;
  abandoned: boolean;
  stallTimer: NodeJS.Timeout | undefined;
}

/** bottleneck priority of a lease job that only collects permits owed for admitted calls (its most urgent). */
const PRIORITY_OF_DEBT = 0;

let leaseCounter = 0;
let waiterCounter = 0;

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
 * left after the previous lease; extra permits for future calls (prefetch) are taken only
 * while the bucket was at least half full, sized to the demand of the last
 * `LEASE_HORIZON_MILLIS` and capped by `maxUnused`. When the limit binds, the bucket is
 * near empty after every lease, so leases shrink to one caller's weight: per-call
 * scheduling, as without leases.
 */
export class PermitLease {
  private readonly chunks: Chunk[] = [];
  private readonly waiters: Waiter[] = [];
  private pending: PendingLease | undefined;
  private unusedWeight = 0;
  private queuedWeight = 0;
  /** Reservoir read after our last lease; undefined until the first (full from the start when exclusive). */
  private lastKnownReservoir: number | undefined;
  /** Bumped when the bucket shrinks behind the lease's back: a read started before then is stale. */
  private readGeneration = 0;
  /** Permits drawn on credit (exclusive lease) that a lease job has yet to take from the bucket. */
  private owedWeight = 0;
  private windowStartMs = Date.now();
  private windowDrawn = 0;
  private demandPerMs = 0;
  private lastDrawMs = 0;
  private returnTimer: NodeJS.Timeout | undefined;
  private debtTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Most permits held unused at once. */
  readonly maxUnused: number;
  /** Counters for inspection: bottleneck jobs run and permits handed back. */
  leasesTaken = 0;
  permitsReturned = 0;

  constructor(
    private readonly bucket: LeasedBucket,
    private readonly tickMillis: number,
    private readonly handlers: LeaseHandlers,
  ) {
    this.maxUnused = Math.floor(
      Math.min(bucket.capacity * LEASE_MAX_UNUSED_FRACTION, bucket.ratePerMs * tickMillis),
    );
    if (bucket.exclusive) this.lastKnownReservoir = bucket.capacity;
  }

  /** Permits leased and not yet drawn. */
  get unused(): number {
    return this.unusedWeight;
  }

  /** Permits drawn on credit and not yet taken from the bucket (exclusive lease). */
  get owed(): number {
    return this.owedWeight;
  }

  /** Weight of callers waiting for a lease. */
  get queued(): number {
    return this.queuedWeight;
  }

  /** Whether callers wait, a lease job is outstanding or permits are owed to the bucket. */
  get busy(): boolean {
    return this.waiters.length > 0 || this.pending !== undefined || this.owedWeight > 0;
  }

  /**
   * Draws `weight` at once if nobody is queued ahead and the lease holds it — or, for an
   * exclusive lease, the bucket is known to hold it (a later lease job collects the permits).
   */
  tryTake(weight: number, priority: number): boolean {
    if (this.waiters.length > 0 || this.closed) return false;
    const nowMs = Date.now();
    if (this.firstExpiryMs() <= nowMs) this.expire(nowMs);
    if (this.unusedWeight >= weight) {
      this.draw(weight, nowMs);
      // An exclusive lease never needs permits in hand before a call: it admits on credit.
      if (!this.bucket.exclusive) this.maybePrefetch(priority);
      return true;
    }
    const short = weight - this.unusedWeight;
    if (!this.bucket.exclusive || this.knownFree() < short) return false;
    this.draw(this.unusedWeight, nowMs);
    this.owedWeight += short;
    this.windowDrawn += short;
    this.scheduleDebtCollection();
    return true;
  }

  /** Collects owed permits soon, in one batch; at once when what the bucket is known to hold runs low. */
  private scheduleDebtCollection(): void {
    if (this.pending || this.closed) return;
    if (this.knownFree() < this.bucket.capacity * SLACK_FRACTION) {
      clearTimeout(this.debtTimer);
      this.debtTimer = undefined;
      this.collectDebt(PRIORITY_OF_DEBT);
      return;
    }
    if (this.debtTimer) return;
    this.debtTimer = setTimeout(() => {
      this.debtTimer = undefined;
      if (!this.pending && !this.closed && this.owedWeight > 0) this.collectDebt(PRIORITY_OF_DEBT);
    }, DEBT_COLLECT_MILLIS);
    this.debtTimer.unref();
  }

  /** One lease job for the permits owed, plus a prefetch for the next calls where the bucket is known to hold it. */
  private collectDebt(priority: number): void {
    const withPrefetch = Math.min(this.owedWeight + this.prefetchTarget(), this.lastKnownReservoir ?? 0);
    this.lease(Math.max(this.owedWeight, withPrefetch), priority);
  }

  /**
   * Queues for `weight` until `deadlineMs`; rejects with the handlers' errors. An abort of
   * `signal` takes the waiter out of the queue at once and rejects with the signal's reason.
   */
  take(weight: number, priority: number, deadlineMs: number, signal?: AbortSignal): Promise<LeaseGrant> {
    if (this.closed) return Promise.reject(new Bottleneck.BottleneckError('The limiter was closed'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<LeaseGrant>((resolve, reject) => {
      const onAbort = () => this.remove(waiter, abortReason(signal!));
      const waiter: Waiter = {
        weight,
        priority,
        sequence: ++waiterCounter,
        deadlineMs,
        resolve: (grant) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(grant);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        timer: undefined,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue(waiter);
      this.queuedWeight += weight;
      waiter.timer = setTimeout(() => this.onDeadline(waiter), Math.max(0, deadlineMs - Date.now()));
      this.pump();
    });
  }

  /** A drawn permit was never used (the call was not sent): it goes back to the bucket. */
  refund(weight: number): void {
    this.giveBack(weight, this.bucket.limiter, 'refund');
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
    const tooMany = this.unusedWeight - (remaining + this.owedWeight);
    if (tooMany > 0) {
      this.consume(tooMany);
      if (this.unusedWeight === 0) this.chunks.length = 0;
    }
    const ceiling = remaining - this.unusedWeight + this.owedWeight;
    // The bucket will hold at most the ceiling: a lower bound read before stays one if lowered to it,
    // and a read in flight (started before the cap) must not raise it again.
    if (this.lastKnownReservoir !== undefined)
      this.lastKnownReservoir = Math.min(this.lastKnownReservoir, ceiling);
    this.readGeneration++;
    return ceiling;
  }

  /** Stops timers and fails queued callers; unused permits are returned. */
  close(): void {
    this.closed = true;
    clearTimeout(this.returnTimer);
    this.returnTimer = undefined;
    clearTimeout(this.debtTimer);
    this.debtTimer = undefined;
    const error = new Bottleneck.BottleneckError('The limiter was closed');
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.queuedWeight = 0;
    if (this.pending) this.stopStallWatch(this.pending);
    this.chunks.length = 0;
    this.unusedWeight = 0;
    this.owedWeight = 0;
  }

  private enqueue(waiter: Waiter): void {
    // Lower bottleneck priority numbers go first; equal priorities keep arrival order.
    let index = this.waiters.length;
    while (index > 0 && this.waiters[index - 1]!.priority > waiter.priority) index--;
    this.waiters.splice(index, 0, waiter);
  }

  /** Serves queued callers from the lease, then starts one lease job for the first that cannot be served. */
  private pump(): void {
    const nowMs = Date.now();
    if (this.chunks.length > 0 && this.firstExpiryMs() <= nowMs) this.expire(nowMs);
    while (this.waiters.length > 0 && this.unusedWeight >= this.waiters[0]!.weight) {
      const waiter = this.waiters.shift()!;
      this.queuedWeight -= waiter.weight;
      clearTimeout(waiter.timer);
      this.draw(waiter.weight, nowMs);
      waiter.resolve('leased');
    }
    if (this.pending || this.closed) return;
    // Permits owed for admitted calls are collected first, without the queued callers' needs:
    // the bucket is known to hold the debt (and any prefetch within the last read), so that
    // job never waits behind a refill the queued callers need.
    if (this.owedWeight > 0) {
      // Queued callers need a fresh read of the bucket: collect now. Otherwise batch it.
      if (this.waiters.length > 0) this.collectDebt(PRIORITY_OF_DEBT);
      else this.scheduleDebtCollection();
      return;
    }
    const head = this.waiters[0];
    if (!head) return;
    const needed = head.weight - this.unusedWeight;
    // Everyone queued, but no more than the bucket had left last time we looked: a lease
    // larger than the bucket holds would wait for refills the first caller does not need.
    const deficit = this.queuedWeight - this.unusedWeight;
    let weight = Math.max(needed, Math.floor(Math.min(deficit, this.lastKnownReservoir ?? 0)));
    weight += this.prefetchWeight(weight);
    this.lease(Math.min(weight, this.bucket.capacity), head.priority);
  }

  /**
   * What the bucket is known to hold beyond what this lease has asked for or owes: the last
   * read, less the outstanding lease job or the debt, whichever is larger (the job pays the
   * debt first).
   */
  private knownFree(): number {
    if (this.lastKnownReservoir === undefined) return 0;
    return this.lastKnownReservoir - Math.max(this.pending?.weight ?? 0, this.owedWeight);
  }

  /** After a draw from the lease: top it up early while the bucket has slack, so callers rarely queue. */
  private maybePrefetch(priority: number): void {
    if (this.pending || this.closed) return;
    const target = this.prefetchTarget();
    if (target === 0 || this.unusedWeight * 2 > target) return;
    this.lease(target - this.unusedWeight, priority);
  }

  /** Extra permits beyond what waiters need, when the bucket is not binding. */
  private prefetchWeight(needed: number): number {
    const target = this.prefetchTarget();
    const free = Math.max(0, this.unusedWeight + needed - this.queuedWeight);
    return Math.max(0, target - free);
  }

  private prefetchTarget(): number {
    const known = this.lastKnownReservoir;
    if (this.maxUnused < 1 || known === undefined || known < this.bucket.capacity * SLACK_FRACTION) return 0;
    return Math.min(this.maxUnused, Math.ceil(this.demandPerMs * LEASE_HORIZON_MILLIS));
  }

  /** One bottleneck job of `weight`: the permits it takes join the lease. */
  private lease(weight: number, priority: number): void {
    if (weight <= 0) return;
    const limiter = this.bucket.limiter;
    const pending: PendingLease = { weight, limiter, abandoned: false, stallTimer: undefined };
    this.pending = pending;
    this.watchStore(pending);
    limiter
      .schedule({ id: `tollgate-lease-${++leaseCounter}`, priority, weight }, async () => {
        this.stopStallWatch(pending);
        if (pending.abandoned || this.closed) {
          // Given up on (store stalled, or closed) before bottleneck came round to it: hand it straight back.
          this.giveBack(weight, limiter);
          return;
        }
        this.leasesTaken++;
        const nowMs = Date.now();
        // Permits owed for calls admitted on credit are paid first; the rest joins the lease.
        const paid = Math.min(this.owedWeight, weight);
        this.owedWeight -= paid;
        if (weight > paid) {
          this.chunks.push({ remaining: weight - paid, expiresAtMs: nowMs + this.tickMillis });
          this.unusedWeight += weight - paid;
        }
        if (this.lastKnownReservoir !== undefined)
          this.lastKnownReservoir = Math.max(0, this.lastKnownReservoir - weight);
        this.pump();
        // Never sit on more than `maxUnused` beyond what queued callers are about to take.
        const excess = this.unusedWeight - Math.max(this.maxUnused, this.queuedWeight);
        if (excess > 0) {
          this.consume(excess);
          this.giveBack(excess, limiter);
        }
        this.armReturn(nowMs);
        const generation = this.readGeneration;
        try {
          // What the bucket had left sizes the next lease: near empty means the limit binds.
          const left = await limiter.currentReservoir();
          if (generation === this.readGeneration) this.lastKnownReservoir = left ?? undefined;
        } catch {
          this.lastKnownReservoir = undefined;
        }
        if (this.pending === pending) this.pending = undefined;
        this.pump();
      })
      .catch((error: unknown) => {
        this.stopStallWatch(pending);
        if (this.pending === pending) this.pending = undefined;
        if (pending.abandoned || this.closed) return;
        this.failWaiters(error, limiter);
      });
  }

  /** A lease job failed: every queued caller gets the store policy's answer (or the error). */
  private failWaiters(error: unknown, limiter: Bottleneck): void {
    const viaStore =
      this.handlers.storeFailed && !(error instanceof Bottleneck.BottleneckError)
        ? this.handlers.storeFailed(error, limiter)
        : error;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      if (viaStore === undefined) waiter.resolve('unmetered');
      else waiter.reject(viaStore);
    }
    this.queuedWeight = 0;
  }

  /** While a lease job is outstanding on a shared store, check it still answers; if not, stop waiting for it. */
  private watchStore(pending: PendingLease): void {
    const available = this.handlers.storeAvailable;
    const every = this.handlers.storeCheckMillis;
    const stopped = this.handlers.storeStopped;
    if (!available || !stopped || every === undefined) return;
    pending.stallTimer = setTimeout(() => {
      if (this.pending !== pending) return;
      if (available()) {
        this.watchStore(pending);
        return;
      }
      pending.abandoned = true;
      this.pending = undefined;
      this.failWaiters(stopped(every), pending.limiter);
    }, every);
  }

  private stopStallWatch(pending: PendingLease): void {
    clearTimeout(pending.stallTimer);
    pending.stallTimer = undefined;
  }

  private onDeadline(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    const pending = this.pending;
    if (pending && index === 0) {
      // bottleneck admits through a few asynchronous steps: a lease that would run now is not waiting for capacity.
      // The check itself is bounded: on a store that never answers it would never settle.
      const grace = Math.max(1, waiter.deadlineMs + DEADLINE_GRACE_MILLIS - Date.now());
      void withinMillis(pending.limiter.check(pending.weight), grace).then(
        (wouldRun) => {
          if (wouldRun && this.pending === pending && Date.now() < waiter.deadlineMs + DEADLINE_GRACE_MILLIS)
            waiter.timer = setTimeout(() => this.onDeadline(waiter), 2);
          else this.giveUp(waiter);
        },
        (error: unknown) => {
          if (this.handlers.storeFailed && this.waiters.includes(waiter)) {
            // The lease job cannot be trusted to come back either: stop waiting for it.
            if (this.pending === pending) {
              pending.abandoned = true;
              this.pending = undefined;
              this.stopStallWatch(pending);
            }
            this.failWaiters(error, pending.limiter);
          } else this.giveUp(waiter);
        },
      );
      return;
    }
    this.giveUp(waiter);
  }

  private giveUp(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    let ahead = 0;
    for (let position = 0; position <= index; position++) ahead += this.waiters[position]!.weight;
    this.remove(waiter, this.handlers.timedOut(waiter.weight, ahead));
  }

  /** Takes a waiter out of the queue (deadline or abort) and rejects it; the callers behind it move up. */
  private remove(waiter: Waiter, error: unknown): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    this.queuedWeight -= waiter.weight;
    clearTimeout(waiter.timer);
    waiter.reject(error);
    // A lease already asked for on its behalf still lands in the pool, for the next in line; idle return hands back the rest.
    this.pump();
  }

  private draw(weight: number, nowMs: number): void {
    this.consume(weight);
    this.lastDrawMs = nowMs;
    const elapsed = nowMs - this.windowStartMs;
    if (elapsed >= LEASE_HORIZON_MILLIS) {
      this.demandPerMs = this.windowDrawn / elapsed;
      this.windowStartMs = nowMs;
      this.windowDrawn = 0;
    }
    this.windowDrawn += weight;
  }

  private consume(weight: number): void {
    let left = weight;
    this.unusedWeight -= weight;
    while (left > 0 && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.remaining, left);
      chunk.remaining -= used;
      left -= used;
      if (chunk.remaining === 0) this.chunks.shift();
    }
  }

  private firstExpiryMs(): number {
    return this.chunks.length > 0 ? this.chunks[0]!.expiresAtMs : Number.POSITIVE_INFINITY;
  }

  /** Permits held one refill tick go back, used or not, so no permit outlives its tick. */
  private expire(nowMs: number): void {
    let expired = 0;
    while (this.chunks.length > 0 && this.chunks[0]!.expiresAtMs <= nowMs) {
      expired += this.chunks.shift()!.remaining;
    }
    if (expired > 0) {
      this.unusedWeight -= expired;
      this.giveBack(expired, this.bucket.limiter, 'give-back');
    }
  }

  /** Checks the lease after the idle time or the first expiry, whichever comes first. */
  private armReturn(nowMs: number): void {
    if (this.returnTimer || this.closed || this.unusedWeight === 0) return;
    const dueMs = Math.min(Math.max(this.lastDrawMs, nowMs) + LEASE_IDLE_MILLIS, this.firstExpiryMs());
    this.returnTimer = setTimeout(() => this.onReturnTimer(), Math.max(1, dueMs - nowMs));
    this.returnTimer.unref();
  }

  private onReturnTimer(): void {
    this.returnTimer = undefined;
    const nowMs = Date.now();
    this.expire(nowMs);
    if (this.unusedWeight > 0 && nowMs - this.lastDrawMs >= LEASE_IDLE_MILLIS && this.waiters.length === 0) {
      const unused = this.unusedWeight;
      this.chunks.length = 0;
      this.unusedWeight = 0;
      this.giveBack(unused, this.bucket.limiter, 'give-back');
    }
    this.armReturn(nowMs);
  }

  /**
   * Hands permits back to the bucket, never filling it past its size: a refill may have
   * topped it up while they were out, and bottleneck's `incrementReservoir` does not cap.
   */
  private giveBack(
    weight: number,
    limiter: Bottleneck = this.bucket.limiter,
    operation: 'give-back' | 'refund' = 'give-back',
  ): void {
    if (weight <= 0) return;
    this.permitsReturned += weight;
    const capacity = this.bucket.capacity;
    void limiter
      .currentReservoir()
      .then((current) => {
        const back = current === null ? weight : Math.min(weight, capacity - current);
        return back > 0 ? limiter.incrementReservoir(back) : undefined;
      })
      .catch((error: unknown) => {
        // The permits are lost, which only ever admits less; but it is reported, not swallowed.
        this.handlers.giveBackFailed(operation, weight, error);
      });
  }
}
