/** Prefetch targets this much of the demand observed over the last window. */
export const LEASE_HORIZON_MILLIS = 100;

/**
 * Upper bound on the permits one process holds unused, as a fraction of the bucket. The
 * other bound is one refill tick's worth (`rate × tick`); the smaller one applies.
 */
export const LEASE_MAX_UNUSED_FRACTION = 0.05;

/** A leased bucket is "not binding" while, after our last lease, at least this fraction of it was left. */
export const SLACK_FRACTION = 0.5;

/** Most permits a lease holds unused at once: 5% of the bucket or one tick's refill, whichever is smaller. */
export function maxUnusedPermits(capacity: number, ratePerMs: number, tickMillis: number): number {
  return Math.floor(Math.min(capacity * LEASE_MAX_UNUSED_FRACTION, ratePerMs * tickMillis));
}

/**
 * The demand a lease sees, measured over windows of `LEASE_HORIZON_MILLIS`, and the prefetch
 * it justifies: permits taken ahead of calls only while the bucket has slack, so a limit that
 * binds is drawn per call, as without leases.
 */
export class LeaseDemand {
  private windowStartMs = Date.now();
  private windowDrawn = 0;
  private demandPerMs = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxUnused: number,
  ) {}

  /** A call drew `weight` from the lease at `nowMs`. */
  drawn(weight: number, nowMs: number): void {
    const elapsed = nowMs - this.windowStartMs;
    if (elapsed >= LEASE_HORIZON_MILLIS) {
      this.demandPerMs = this.windowDrawn / elapsed;
      this.windowStartMs = nowMs;
      this.windowDrawn = 0;
    }
    this.windowDrawn += weight;
  }

  /** A call was admitted on credit for `weight` it did not find in the lease. */
  credited(weight: number): void {
    this.windowDrawn += weight;
  }

  /**
   * Permits worth holding for the next calls: none unless the bucket was at least half full at
   * the last read, then the demand of one horizon, capped by `maxUnused`.
   */
  prefetchTarget(lastKnownReservoir: number | undefined): number {
    if (this.maxUnused < 1 || lastKnownReservoir === undefined) return 0;
    if (lastKnownReservoir < this.capacity * SLACK_FRACTION) return 0;
    return Math.min(this.maxUnused, Math.ceil(this.demandPerMs * LEASE_HORIZON_MILLIS));
  }
}
