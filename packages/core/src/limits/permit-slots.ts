import type { ConcurrencySlots } from './concurrency-slots';
import type { PermitLease } from './permit-lease';

/** What an admitted call holds in one bucket. */
export interface Slot {
  /** The call finished: free what it holds for its duration. */
  release(): void;
  /** The call was never sent: also return the capacity it took. */
  refund(): void;
}

/** A slot that holds nothing: the call was let through without a shared limit (fail-open). */
export const NO_SLOT: Slot = Object.freeze({ release() {}, refund() {} });

/** A permit drawn from a lease: nothing to hold; a refund hands it back to the bucket. */
export function leasedSlot(lease: PermitLease, weight: number): Slot {
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
export function concurrencySlot(slots: ConcurrencySlots): Slot {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    slots.release();
  };
  return { release: end, refund: end };
}
