import { withinMillis } from './bounded-wait';
import type { SharedLimiterStore } from './limiter-store';

/**
 * How far past a waiter's deadline a bottleneck job that is about to run may still be waited
 * for (bottleneck admits through a few asynchronous steps). Past it the waiter gets its answer
 * whatever the store does: no wait exceeds `maxWaitMillis` by more than this.
 */
export const DEADLINE_GRACE_MILLIS = 100;

/** How soon a waiter whose job was about to run looks again. */
const RECHECK_MILLIS = 2;

/**
 * What the deadline protocol needs from whoever queues calls on bottleneck jobs: the held
 * per-call job of the rate limiter, and the permit lease.
 */
export interface DeadlineParty<W> {
  /** Whether the waiter still waits: not admitted, refused, failed or aborted. */
  isWaiting(waiter: W): boolean;
  /**
   * Asks bottleneck whether the job the waiter depends on would run now; `undefined` when no
   * job is about to run for it, and the waiter times out at once.
   */
  wouldRunNow(waiter: W): Promise<boolean> | undefined;
  /** Refuses the waiter: its deadline passed without capacity. */
  timeOut(waiter: W): void;
  /**
   * Asking failed or went unanswered within the grace: a shared store is in trouble, and its
   * policy decides. Without it (a local store), the waiter times out.
   */
  storeFailed?(waiter: W, error: unknown): void;
}

/**
 * One waiter's deadline. When it passes, a waiter whose job bottleneck is about to run is
 * given a little longer (within `DEADLINE_GRACE_MILLIS`, the check itself bounded by it, so a
 * store that never answers gets no longer); any other waiter times out.
 */
export class WaitDeadline<W> {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deadlineMs: number,
    private readonly waiter: W,
    private readonly party: DeadlineParty<W>,
  ) {
    this.timer = setTimeout(reach, Math.max(0, deadlineMs - Date.now()), this);
  }

  /** The waiter stopped waiting (admitted, refused, failed or aborted). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** @internal run by the timer */
  reached(): void {
    const { waiter, party } = this;
    if (!party.isWaiting(waiter)) return;
    const graceMs = this.deadlineMs + DEADLINE_GRACE_MILLIS - Date.now();
    const check = graceMs > 0 ? party.wouldRunNow(waiter) : undefined;
    if (check === undefined) {
      party.timeOut(waiter);
      return;
    }
    void withinMillis(check, graceMs).then(
      (wouldRun) => {
        if (!party.isWaiting(waiter)) return;
        if (wouldRun) this.timer = setTimeout(reach, RECHECK_MILLIS, this);
        else party.timeOut(waiter);
      },
      (error: unknown) => {
        if (!party.isWaiting(waiter)) return;
        if (party.storeFailed) party.storeFailed(waiter, error);
        else party.timeOut(waiter);
      },
    );
  }
}

function reach(deadline: WaitDeadline<unknown>): void {
  deadline.reached();
}

/** What the stall watch needs of a shared store. */
export type StoreHealth = Pick<
  SharedLimiterStore,
  'isAvailable' | 'commandTimeoutMillis' | 'describeFailure'
>;

/**
 * While a job is outstanding on a shared store, checks every command timeout that the store
 * still answers: a queue that is only slow keeps waiting (up to `maxWaitMillis`), one behind a
 * store that stopped answering fails now, with the store's error.
 */
export class StallWatch {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StoreHealth,
    private readonly stillWaiting: () => boolean,
    private readonly stalled: (error: Error) => void,
  ) {
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const every = this.store.commandTimeoutMillis;
    this.timer = setTimeout(() => {
      if (!this.stillWaiting()) return;
      if (this.store.isAvailable()) this.arm();
      else this.stalled(this.store.describeFailure('stopped-answering', every));
    }, every);
  }
}
