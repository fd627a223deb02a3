import { abortReason } from './bounded-wait';

interface SlotWaiter {
  readonly priority: number;
  resolve(): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * An exact count of calls in flight in this process, with a priority queue in front of it.
 * A slot is taken synchronously when one is free and nobody waits; otherwise the caller
 * queues (lower priority numbers first, then arrival order) until a slot is released or
 * its deadline passes.
 */
export class ConcurrencySlots {
  private inFlight = 0;
  private readonly waiters: SlotWaiter[] = [];

  constructor(readonly maxConcurrent: number) {}

  /** Calls holding a slot now. */
  get running(): number {
    return this.inFlight;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.waiters.length > 0;
  }

  tryTake(): boolean {
    if (this.waiters.length > 0 || this.inFlight >= this.maxConcurrent) return false;
    this.inFlight++;
    return true;
  }

  /**
   * Waits for a slot until `deadlineMs`, then rejects with `timedOut()`; an abort of `signal`
   * leaves the queue at once and rejects with the signal's reason.
   */
  take(priority: number, deadlineMs: number, timedOut: () => Error, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.tryTake()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const leave = (error: unknown) => {
        const at = this.waiters.indexOf(waiter);
        if (at < 0) return;
        this.waiters.splice(at, 1);
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => leave(abortReason(signal!));
      const waiter: SlotWaiter = {
        priority,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
        timer: undefined,
      };
      let index = this.waiters.length;
      while (index > 0 && this.waiters[index - 1]!.priority > priority) index--;
      this.waiters.splice(index, 0, waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.timer = setTimeout(() => leave(timedOut()), Math.max(0, deadlineMs - Date.now()));
    });
  }

  /** Frees a slot, handing it straight to the first waiter. */
  release(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
      return;
    }
    this.inFlight--;
  }

  /** Fails every waiter; used at shutdown. */
  close(error: Error): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
