import type Bottleneck from 'bottleneck';
import type { LeaseJob } from './lease-queue';
import { StallWatch, type StoreHealth } from './wait-deadline';

/** What a lease needs to know about the bottleneck bucket it draws from. */
export interface LeasedBucket {
  /** The bucket's bottleneck instance; it may be replaced (rebuilt after its shared state was lost). */
  readonly limiter: Bottleneck;
  /** Bucket size (burst). */
  readonly capacity: number;
  /** Refill rate in weight per millisecond. */
  readonly ratePerMs: number;
  /**
   * Only this lease draws from the bucket (a process-local limiter, created full): what it
   * last read of the reservoir, less what it has taken since, is a lower bound of what the
   * bucket holds, so a call can be admitted against permits the lease has yet to collect.
   */
  readonly exclusive: boolean;
}

/** What the lease does with a job's outcome. */
export interface LeaseJobOutcome {
  /** bottleneck took `weight` out of the bucket for the lease at `nowMs`. */
  granted(weight: number, limiter: Bottleneck, nowMs: number): void;
  /** The job is over (the bucket read after it included): the next one may start. */
  settled(): void;
  /** The job failed, or the store behind it stopped answering: the queued callers get the answer. */
  failed(error: unknown, limiter: Bottleneck): void;
  /** Permits could not be handed back to the bucket; reported, never thrown. */
  giveBackFailed(operation: 'give-back' | 'refund', weight: number, error: unknown): void;
}

let leaseCounter = 0;

/**
 * The lease's side of bottleneck: one job at a time taking permits out of the bucket, what
 * the bucket was read to hold after it, and permits handed back.
 */
export class LeaseJobs {
  private pending: LeaseJob | undefined;
  /** Reservoir read after our last lease; undefined until the first (full from the start when exclusive). */
  private known: number | undefined;
  /** Bumped when the bucket shrinks behind the lease's back: a read started before then is stale. */
  private readGeneration = 0;
  private closed = false;
  /** Counters for inspection: bottleneck jobs run and permits handed back. */
  leasesTaken = 0;
  permitsReturned = 0;

  constructor(
    private readonly bucket: LeasedBucket,
    private readonly store: StoreHealth | undefined,
    private readonly outcome: LeaseJobOutcome,
  ) {
    if (bucket.exclusive) this.known = bucket.capacity;
  }

  /** The job outstanding, if any. */
  get outstanding(): LeaseJob | undefined {
    return this.pending;
  }

  /** What the bucket held at the last read, less what the lease took since. */
  get lastKnownReservoir(): number | undefined {
    return this.known;
  }

  /**
   * The bucket will hold at most `ceiling`: a lower bound read before stays one if lowered to
   * it, and a read in flight (started before the cap) must not raise it again.
   */
  capKnown(ceiling: number): void {
    if (this.known !== undefined) this.known = Math.min(this.known, ceiling);
    this.readGeneration++;
  }

  /** One bottleneck job of `weight`: the permits it takes go to the lease. */
  start(weight: number, priority: number): void {
    if (weight <= 0) return;
    const limiter = this.bucket.limiter;
    const pending: LeaseJob = { weight, limiter, abandoned: false, stall: undefined };
    this.pending = pending;
    if (this.store) {
      pending.stall = new StallWatch(
        this.store,
        () => this.pending === pending,
        (error) => {
          this.abandon(pending);
          this.outcome.failed(error, pending.limiter);
        },
      );
    }
    limiter
      .schedule({ id: `tollgate-lease-${++leaseCounter}`, priority, weight }, async () => {
        pending.stall?.stop();
        if (pending.abandoned || this.closed) {
          // Given up on (store stalled, or closed) before bottleneck came round to it: hand it straight back.
          this.giveBack(weight, limiter);
          return;
        }
        this.leasesTaken++;
        if (this.known !== undefined) this.known = Math.max(0, this.known - weight);
        this.outcome.granted(weight, limiter, Date.now());
        const generation = this.readGeneration;
        try {
          // What the bucket had left sizes the next lease: near empty means the limit binds.
          const left = await limiter.currentReservoir();
          if (generation === this.readGeneration) this.known = left ?? undefined;
        } catch {
          this.known = undefined;
        }
        if (this.pending === pending) this.pending = undefined;
        this.outcome.settled();
      })
      .catch((error: unknown) => {
        pending.stall?.stop();
        if (this.pending === pending) this.pending = undefined;
        if (pending.abandoned || this.closed) return;
        this.outcome.failed(error, limiter);
      });
  }

  /** Stops waiting for a job that cannot be trusted to come back; its permits go back if it ever runs. */
  abandon(job: LeaseJob): void {
    if (this.pending !== job) return;
    job.abandoned = true;
    this.pending = undefined;
    job.stall?.stop();
  }

  /**
   * Hands permits back to the bucket, never filling it past its size: a refill may have
   * topped it up while they were out, and bottleneck's `incrementReservoir` does not cap.
   */
  giveBack(
    weight: number,
    limiter: Bottleneck = this.bucket.limiter,
    operation: 'give-back' | 'refund' = 'give-back',
  ): void {
    if (weight <= 0) return;
    this.permitsReturned += weight;
    const capacity = this.bucket.capacity;
    void limiter
      .currentReservoir()
      .then((current) => {
        const back = current === null ? weight : Math.min(weight, capacity - current);
        return back > 0 ? limiter.incrementReservoir(back) : undefined;
      })
      .catch((error: unknown) => {
        // The permits are lost, which only ever admits less; but it is reported, not swallowed.
        this.outcome.giveBackFailed(operation, weight, error);
      });
  }

  /** Jobs still to run hand their permits straight back. */
  close(): void {
    this.closed = true;
    this.pending?.stall?.stop();
  }
}
