import Bottleneck from 'bottleneck';
import { abortReason } from './bounded-wait';
import type { Bucket, BucketFactory } from './bucket-factory';
import type { LimiterSet } from './limiter-set';
import type { SharedLimiterStore } from './limiter-store';
import type { LimiterUpdateFailureReporter } from './limiter-update-failure';
import { NO_SLOT, type Slot } from './permit-slots';
import { type DeadlineParty, StallWatch, WaitDeadline } from './wait-deadline';

/** What a held permit needs from the limiter that takes it. */
export interface HeldPermitContext {
  readonly store: SharedLimiterStore;
  readonly buckets: BucketFactory;
  readonly reportUpdateFailure: LimiterUpdateFailureReporter;
  /** The refusal of a call that waited its whole `maxWaitMillis`; `aheadWeight` includes its own. */
  waitExceeded(set: LimiterSet, bucket: Bucket, weight: number, aheadWeight: number): Error;
}

/** One call's request for `weight` from a bucket, until `deadlineMs`. */
export interface HeldCall {
  readonly set: LimiterSet;
  readonly bucket: Bucket;
  readonly weight: number;
  readonly priority: number;
  readonly deadlineMs: number;
  readonly signal: AbortSignal | undefined;
}

/** Unique bottleneck job ids, so a queued job's status can be looked up at its deadline. */
let jobCounter = 0;

/**
 * A per-call bottleneck job held until the call ends: a shared concurrency bucket, exact
 * across processes. Its state machine: `queued` until bottleneck runs the job (`admitted`,
 * held until release or refund), or until the deadline, an abort or a store failure ends the
 * wait (`abandoned`: when bottleneck later comes round to the job, it returns its capacity).
 */
export function takeHeldPermit(context: HeldPermitContext, call: HeldCall): Promise<Slot> {
  if (call.signal?.aborted) return Promise.reject(abortReason(call.signal));
  return new Promise<Slot>((resolve, reject) => new HeldJob(context, call, resolve, reject).start());
}

class HeldJob implements DeadlineParty<HeldJob> {
  private state: 'queued' | 'admitted' | 'abandoned' = 'queued';
  private finish: () => void = () => {};
  private readonly jobId = `tollgate-${++jobCounter}`;
  private deadline: WaitDeadline<HeldJob> | undefined;
  private stall: StallWatch | undefined;
  /** The caller gave up: out of the queue now; bottleneck hands the job's capacity back when it comes up. */
  private readonly onAbort = () => {
    if (this.state !== 'queued') return;
    this.state = 'abandoned';
    this.stopWatching();
    this.call.bucket.queuedWeight -= this.call.weight;
    this.reject(abortReason(this.call.signal!));
  };

  constructor(
    private readonly context: HeldPermitContext,
    private readonly call: HeldCall,
    private readonly resolve: (slot: Slot) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(): void {
    const { bucket, weight, priority, signal } = this.call;
    const store = this.context.store;
    bucket.queuedWeight += weight;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.deadline = new WaitDeadline(this.call.deadlineMs, this, this);
    this.stall = new StallWatch(
      store,
      () => this.state === 'queued',
      (error) => this.storeFailed(this, error),
    );
    bucket.limiter
      .schedule({ id: this.jobId, priority, weight, expiration: store.jobExpirationMillis }, () => this.run())
      .catch((error: unknown) => this.failed(error));
  }

  isWaiting(): boolean {
    if (this.state !== 'queued') return false;
    const status = this.call.bucket.limiter.jobStatus(this.jobId);
    return status === 'RECEIVED' || status === 'QUEUED';
  }

  wouldRunNow(): Promise<boolean> {
    return this.call.bucket.limiter.check(this.call.weight);
  }

  timeOut(): void {
    // The job may have been admitted while the capacity check ran: then it is no longer waiting.
    if (!this.isWaiting()) return;
    const { set, bucket, weight } = this.call;
    this.state = 'abandoned';
    this.stopWatching();
    bucket.queuedWeight -= weight;
    this.reject(this.context.waitExceeded(set, bucket, weight, bucket.queuedWeight + weight));
  }

  /** The shared store did not take the call in time, or failed: the store's policy decides. */
  storeFailed(_job: HeldJob, error: unknown): void {
    if (this.state !== 'queued') return;
    const { set, bucket, weight } = this.call;
    this.state = 'abandoned';
    this.stopWatching();
    bucket.queuedWeight -= weight;
    this.context.buckets.noteStoreError(bucket, bucket.limiter, error, false);
    const failure = this.context.store.onStoreFailure(error, set.key);
    if (failure) this.reject(failure);
    else this.resolve(NO_SLOT);
  }

  /** bottleneck runs the job: the call is admitted and holds the job until it ends. */
  private run(): Promise<void> {
    if (this.state === 'abandoned') {
      // bottleneck cannot cancel a queued job; when a timed-out or aborted one comes up, it returns its capacity at once.
      this.giveBack('give-back');
      return Promise.resolve();
    }
    this.stopWatching();
    this.state = 'admitted';
    this.call.bucket.queuedWeight -= this.call.weight;
    return new Promise<void>((done) => {
      this.finish = done;
      let ended = false;
      this.resolve({
        release: () => {
          if (!ended) {
            ended = true;
            done();
          }
        },
        refund: () => {
          if (!ended) {
            ended = true;
            this.giveBack('refund');
            done();
          }
        },
      });
    });
  }

  /** bottleneck refused or dropped the job: a store error goes to the store's policy, its own errors to the caller. */
  private failed(error: unknown): void {
    this.finish();
    if (this.state !== 'queued') return;
    if (!(error instanceof Bottleneck.BottleneckError)) {
      this.storeFailed(this, error);
      return;
    }
    this.stopWatching();
    this.state = 'abandoned';
    this.reject(error);
  }

  private stopWatching(): void {
    this.deadline?.cancel();
    this.stall?.stop();
    this.call.signal?.removeEventListener('abort', this.onAbort);
  }

  private giveBack(operation: 'give-back' | 'refund'): void {
    const { set, bucket, weight } = this.call;
    if (bucket.ratePerMs === undefined) return;
    const limiter = bucket.limiter;
    void limiter.incrementReservoir(weight).catch((error: unknown) => {
      this.context.buckets.noteStoreError(bucket, limiter, error, false);
      this.context.reportUpdateFailure({
        limiterKey: set.key,
        bucket: bucket.name,
        operation,
        weight,
        error,
      });
    });
  }
}
