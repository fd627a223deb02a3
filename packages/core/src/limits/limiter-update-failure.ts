/**
 * What the limiter does to a bucket outside a call's wait, which can fail on a shared store:
 * - `give-back`: unused leased permits, or a timed-out or aborted call's capacity, returned;
 * - `refund`: the permit of an admitted call that was never sent, returned;
 * - `shrink`: the bucket capped to what the provider says remains.
 */
export type LimiterUpdateOperation = 'give-back' | 'refund' | 'shrink';

/**
 * A bucket update that could not be applied. A failed give-back or refund leaves the bucket
 * holding less than it should (it only ever admits less) until it refills; a failed shrink
 * leaves it holding more than the provider allows, so the provider may answer 429.
 */
export interface LimiterUpdateFailure {
  limiterKey: string;
  bucket: 'requests' | 'tokens';
  operation: LimiterUpdateOperation;
  /** Permits returned (`give-back`, `refund`), or the ceiling that was to be set (`shrink`). */
  weight: number;
  error: unknown;
}

/** Told when a bucket update (give-back, refund, provider-feedback shrink) could not be applied. */
export type LimiterUpdateFailureReporter = (failure: LimiterUpdateFailure) => void;
