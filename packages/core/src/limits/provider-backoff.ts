import type { Bucket, BucketFactory } from './bucket-factory';
import type { LimiterSet } from './limiter-set';
import type { LimiterStore } from './limiter-store';
import type { LimiterUpdateFailureReporter } from './limiter-update-failure';
import type { ProviderFeedback } from './provider-feedback';
import type { RuleSubject } from './rate-limit-rules';

/** What `apply` returns when everything was done synchronously: one settled promise for every reply. */
const APPLIED: Promise<void> = Promise.resolve();

/** The key a provider's back-off applies to: its provider and model. */
export function backoffKeyOf(call: Pick<RuleSubject, 'provider' | 'model' | 'canonicalModel'>): string {
  return `${call.provider}:${call.canonicalModel ?? call.model}`;
}

/**
 * What the provider says about its own limits, folded into the limiter: a `retry-after` or
 * an exhausted window pauses the model until then, and a remaining count below what the
 * local bucket holds shrinks the bucket to match.
 */
export class ProviderBackoff {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly store: LimiterStore,
    private readonly buckets: BucketFactory,
    private readonly reportUpdateFailure: LimiterUpdateFailureReporter,
  ) {}

  /** How long calls to this model must still wait, in milliseconds (0 or less: none). */
  remainingMillis(call: Pick<RuleSubject, 'provider' | 'model' | 'canonicalModel'>, nowMs: number): number {
    if (this.until.size === 0) return 0;
    return (this.until.get(backoffKeyOf(call)) ?? 0) - nowMs;
  }

  /**
   * Pauses the model for the longest wait the provider asked for, and caps the existing
   * buckets of `sets` at what the provider says remains. Runs on every reply that carries
   * rate-limit headers, so it does its work synchronously and allocates a promise only when
   * a shared store's cap has to be awaited.
   */
  apply(feedback: ProviderFeedback, sets: readonly LimiterSet[]): Promise<void> {
    const key = backoffKeyOf(feedback);
    const pause = Math.max(
      feedback.retryAfterMillis ?? 0,
      feedback.remainingRequests === 0 ? (feedback.requestsResetMillis ?? 0) : 0,
      feedback.remainingTokens === 0 ? (feedback.tokensResetMillis ?? 0) : 0,
    );
    if (pause > 0) {
      const until = Date.now() + pause;
      if (until > (this.until.get(key) ?? 0)) this.until.set(key, until);
    }
    // Filled only when a shared store's cap returns a promise; a local cap leaves it empty.
    const pending: Promise<void>[] = [];
    for (const set of sets) {
      const requests = this.shrinkTo(set.requests, feedback.remainingRequests);
      if (requests !== undefined) pending.push(requests);
      const tokens = this.shrinkTo(set.tokens, feedback.remainingTokens);
      if (tokens !== undefined) pending.push(tokens);
    }
    return pending.length === 0 ? APPLIED : Promise.all(pending).then(() => undefined);
  }

  /** Forgets pauses that have ended. */
  sweep(nowMs: number): void {
    for (const [key, until] of this.until) if (until <= nowMs) this.until.delete(key);
  }

  /**
   * Caps a bucket at what the provider says remains, less the permits this process holds:
   * one atomic "set the reservoir to min(current, remaining − held)". Concurrent replies each
   * set the same kind of ceiling, so however many arrive at once the bucket never goes below
   * the smallest (a relative decrement per reply would subtract the excess once per reply).
   */
  private shrinkTo(bucket: Bucket | undefined, remaining: number | undefined): Promise<void> | undefined {
    if (!bucket || bucket.ratePerMs === undefined || remaining === undefined) return undefined;
    // Nothing this process holds can be above the bucket size plus its lease: nothing to cap.
    if (bucket.capacity !== undefined && remaining >= bucket.capacity + (bucket.lease?.maxUnused ?? 0))
      return undefined;
    // Whole permits only: a shared store may keep reservoirs as integers.
    const whole = Math.floor(remaining);
    // Synchronous: the lease's share is settled before any other reply can interleave.
    const ceiling = bucket.lease ? bucket.lease.ceilingFor(whole) : whole;
    try {
      // A local cap is synchronous: nothing to wait for, and nothing allocated.
      const capped = this.store.capReservoir(bucket.limiter, ceiling);
      return capped?.then(
        () => undefined,
        (error: unknown) => this.shrinkFailed(bucket, ceiling, error),
      );
    } catch (error) {
      this.shrinkFailed(bucket, ceiling, error);
      return undefined;
    }
  }

  private shrinkFailed(bucket: Bucket, ceiling: number, error: unknown): void {
    this.buckets.noteStoreError(bucket, bucket.limiter, error, false);
    this.reportUpdateFailure({
      limiterKey: bucket.key,
      bucket: bucket.name,
      operation: 'shrink',
      weight: ceiling,
      error,
    });
  }
}
