import Bottleneck from 'bottleneck';
import { abortReason } from './bounded-wait';
import { type DeadlineParty, type StallWatch, WaitDeadline } from './wait-deadline';

/** How a lease admitted a waiter: from leased permits, or unmetered after a store failure (fail-open). */
export type LeaseGrant = 'leased' | 'unmetered';

/** One bottleneck job of `weight` taking permits for the lease, outstanding. */
export interface LeaseJob {
  readonly weight: number;
  /** The bucket's limiter when the job was scheduled (the bucket may be rebuilt meanwhile). */
  readonly limiter: Bottleneck;
  /** Given up on (store stalled or failed, or the lease closed): its permits go straight back. */
  abandoned: boolean;
  stall: StallWatch | undefined;
}

/** A call queued for permits the lease does not hold yet. */
export interface LeaseWaiter {
  readonly weight: number;
  /** bottleneck priority: lower numbers go first. */
  readonly priority: number;
  resolve(grant: LeaseGrant): void;
  reject(error: unknown): void;
  deadline: WaitDeadline<LeaseWaiter> | undefined;
  /** The lease job whose capacity was being checked at this waiter's deadline. */
  checking: LeaseJob | undefined;
}

/** What the queue needs from the lease it queues for. */
export interface LeaseQueueOwner {
  /** The lease job outstanding, if any. */
  outstanding(): LeaseJob | undefined;
  /** Stops waiting for a lease job that cannot be trusted to come back. */
  abandon(job: LeaseJob): void;
  /** A waiter's deadline passed; `aheadWeight` is the weight queued before it, its own included. */
  timedOut(weight: number, aheadWeight: number): Error;
  /**
   * The shared store failed: the error waiters get, or `undefined` to let them through
   * without the shared limit (fail-open). Absent for a local store.
   */
  storeFailed?(error: unknown, limiter: Bottleneck): Error | undefined;
  /** A waiter left the queue early: the callers behind it move up. */
  left(): void;
}

/**
 * Callers waiting on a lease, by priority and then arrival. Each waits until it is served,
 * its deadline passes (the shared `WaitDeadline` protocol, checked against the outstanding
 * lease job), its signal aborts, or the store fails every waiter at once.
 */
export class LeaseQueue implements DeadlineParty<LeaseWaiter> {
  private readonly waiters: LeaseWaiter[] = [];
  private queuedWeight = 0;

  constructor(private readonly owner: LeaseQueueOwner) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Total weight of the queued callers. */
  get weight(): number {
    return this.queuedWeight;
  }

  /** The caller served next. */
  get head(): LeaseWaiter | undefined {
    return this.waiters[0];
  }

  /**
   * Queues for `weight` until `deadlineMs`. An abort of `signal` takes the waiter out of the
   * queue at once and rejects with the signal's reason.
   */
  wait(
    weight: number,
    priority: number,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<LeaseGrant> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<LeaseGrant>((resolve, reject) => {
      const onAbort = () => this.leave(waiter, abortReason(signal!));
      const waiter: LeaseWaiter = {
        weight,
        priority,
        resolve: (grant) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(grant);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        deadline: undefined,
        checking: undefined,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let index = this.waiters.length;
      while (index > 0 && this.waiters[index - 1]!.priority > priority) index--;
      this.waiters.splice(index, 0, waiter);
      this.queuedWeight += weight;
      waiter.deadline = new WaitDeadline(deadlineMs, waiter, this);
    });
  }

  /** Takes the head out of the queue: it is served from leased permits. */
  serveHead(): LeaseWaiter | undefined {
    const waiter = this.waiters.shift();
    if (!waiter) return undefined;
    this.queuedWeight -= waiter.weight;
    waiter.deadline?.cancel();
    waiter.resolve('leased');
    return waiter;
  }

  /** A lease job failed: every queued caller gets the store policy's answer (or the error itself). */
  failAll(error: unknown, limiter: Bottleneck): void {
    const viaStore =
      this.owner.storeFailed && !(error instanceof Bottleneck.BottleneckError)
        ? this.owner.storeFailed(error, limiter)
        : error;
    for (const waiter of this.takeAll()) {
      if (viaStore === undefined) waiter.resolve('unmetered');
      else waiter.reject(viaStore);
    }
  }

  /** Refuses every queued caller with `error` (the lease closed). */
  rejectAll(error: unknown): void {
    for (const waiter of this.takeAll()) waiter.reject(error);
  }

  isWaiting(waiter: LeaseWaiter): boolean {
    return this.waiters.includes(waiter);
  }

  /** At a waiter's deadline: only the head waits on the outstanding lease job, which may be about to run. */
  wouldRunNow(waiter: LeaseWaiter): Promise<boolean> | undefined {
    const pending = this.owner.outstanding();
    if (!pending || this.waiters[0] !== waiter) return undefined;
    waiter.checking = pending;
    return pending.limiter
      .check(pending.weight)
      .then((wouldRun) => wouldRun && this.owner.outstanding() === pending);
  }

  timeOut(waiter: LeaseWaiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    let ahead = 0;
    for (let position = 0; position <= index; position++) ahead += this.waiters[position]!.weight;
    this.leave(waiter, this.owner.timedOut(waiter.weight, ahead));
  }

  /** The check at a deadline failed: on a shared store, the lease job cannot be trusted to come back either. */
  storeFailed(waiter: LeaseWaiter, error: unknown): void {
    if (!this.owner.storeFailed) {
      this.timeOut(waiter);
      return;
    }
    const pending = waiter.checking!;
    this.owner.abandon(pending);
    this.failAll(error, pending.limiter);
  }

  /** Takes a waiter out of the queue (deadline or abort) and rejects it; the callers behind it move up. */
  private leave(waiter: LeaseWaiter, error: unknown): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    this.queuedWeight -= waiter.weight;
    waiter.deadline?.cancel();
    waiter.reject(error);
    this.owner.left();
  }

  private takeAll(): LeaseWaiter[] {
    this.queuedWeight = 0;
    const waiters = this.waiters.splice(0);
    for (const waiter of waiters) waiter.deadline?.cancel();
    return waiters;
  }
}
