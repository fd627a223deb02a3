/**
 * Unused leased permits are handed back after this long without a draw. Short, so a
 * process that goes quiet does not sit on capacity other processes could use.
 */
export const LEASE_IDLE_MILLIS = 50;

interface Chunk {
  remaining: number;
  expiresAtMs: number;
}

/** Where permits the lease no longer holds go. */
export interface PermitReturns {
  /** Hands permits back to the bucket. */
  giveBack(weight: number): void;
  /** Whether callers queue for permits: idle permits stay for them. */
  hasWaiters(): boolean;
}

/**
 * The permits a lease holds and has not handed out yet, in the batches (chunks) bottleneck
 * granted them. Draws use the oldest batch first. Each batch goes back to the bucket one
 * refill tick after it was granted, so no permit outlives its tick, and everything held goes
 * back after `LEASE_IDLE_MILLIS` without a draw.
 */
export class LeasedPermits {
  private readonly chunks: Chunk[] = [];
  private unusedWeight = 0;
  private returnTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When a call last drew from the lease. */
  private lastDrawMs = 0;

  constructor(private readonly returns: PermitReturns) {}

  /** Permits held and not yet drawn. */
  get unused(): number {
    return this.unusedWeight;
  }

  /** A batch granted by bottleneck, held until `expiresAtMs`. */
  add(weight: number, expiresAtMs: number): void {
    this.chunks.push({ remaining: weight, expiresAtMs });
    this.unusedWeight += weight;
  }

  /** A call draws `weight` at `nowMs`. */
  draw(weight: number, nowMs: number): void {
    this.consume(weight);
    this.lastDrawMs = nowMs;
  }

  /** Takes `weight` out without a call using it (dropped, or handed back by the caller). */
  consume(weight: number): void {
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

  /** Forgets empty batches once nothing is left (after permits were dropped, not returned). */
  trimEmpty(): void {
    if (this.unusedWeight === 0) this.chunks.length = 0;
  }

  /** Hands back the batches held one refill tick by `nowMs`, used or not. */
  expire(nowMs: number): void {
    if (this.chunks.length === 0 || this.chunks[0]!.expiresAtMs > nowMs) return;
    let expired = 0;
    while (this.chunks.length > 0 && this.chunks[0]!.expiresAtMs <= nowMs) {
      expired += this.chunks.shift()!.remaining;
    }
    if (expired > 0) {
      this.unusedWeight -= expired;
      this.returns.giveBack(expired);
    }
  }

  /** Checks the permits after the idle time or the first expiry, whichever comes first. */
  armReturn(nowMs: number): void {
    if (this.returnTimer || this.stopped || this.unusedWeight === 0) return;
    const dueMs = Math.min(Math.max(this.lastDrawMs, nowMs) + LEASE_IDLE_MILLIS, this.firstExpiryMs());
    this.returnTimer = setTimeout(() => this.onReturnTimer(), Math.max(1, dueMs - nowMs));
    this.returnTimer.unref();
  }

  /** Stops the return timer and forgets every permit (the lease closed). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.returnTimer);
    this.returnTimer = undefined;
    this.chunks.length = 0;
    this.unusedWeight = 0;
  }

  private firstExpiryMs(): number {
    return this.chunks.length > 0 ? this.chunks[0]!.expiresAtMs : Number.POSITIVE_INFINITY;
  }

  private onReturnTimer(): void {
    this.returnTimer = undefined;
    const nowMs = Date.now();
    this.expire(nowMs);
    const idle = nowMs - this.lastDrawMs >= LEASE_IDLE_MILLIS;
    if (this.unusedWeight > 0 && idle && !this.returns.hasWaiters()) {
      const unused = this.unusedWeight;
      this.chunks.length = 0;
      this.unusedWeight = 0;
      this.returns.giveBack(unused);
    }
    this.armReturn(nowMs);
  }
}
