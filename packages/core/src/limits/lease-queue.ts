import type Bottleneck from 'bottleneck';
import type { StallWatch, WaitDeadline } from './wait-deadline';

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

/** Callers waiting on a lease, by priority and then arrival, with the weight they need in total. */
export class LeaseQueue {
  private readonly waiters: LeaseWaiter[] = [];
  private queuedWeight = 0;

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

  includes(waiter: LeaseWaiter): boolean {
    return this.waiters.includes(waiter);
  }

  /** Queues a caller behind every caller of the same or a more urgent priority. */
  add(waiter: LeaseWaiter): void {
    let index = this.waiters.length;
    while (index > 0 && this.waiters[index - 1]!.priority > waiter.priority) index--;
    this.waiters.splice(index, 0, waiter);
    this.queuedWeight += waiter.weight;
  }

  /** Takes the head out of the queue, to be served. */
  shift(): LeaseWaiter | undefined {
    const waiter = this.waiters.shift();
    if (waiter) this.queuedWeight -= waiter.weight;
    return waiter;
  }

  /** Takes a caller out of the queue. @returns the weight queued up to and including it, or -1 when it was not queued. */
  remove(waiter: LeaseWaiter): number {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return -1;
    let ahead = 0;
    for (let position = 0; position <= index; position++) ahead += this.waiters[position]!.weight;
    this.waiters.splice(index, 1);
    this.queuedWeight -= waiter.weight;
    return ahead;
  }

  /** Empties the queue. @returns the callers it held, in order. */
  takeAll(): LeaseWaiter[] {
    this.queuedWeight = 0;
    return this.waiters.splice(0);
  }
}
