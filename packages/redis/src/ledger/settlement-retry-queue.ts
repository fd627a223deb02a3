import type { ReservationStatus } from '@tollgate/core';
import type { RedisStoreEvent, SettlementDroppedEvent } from '../connection/redis-store-events';

/** A settle or release that could not reach Redis, kept to be sent again. */
export interface PendingSettlement {
  reservationId: string;
  mode: 'settled' | 'released';
  amounts: readonly number[];
  firstFailedAtMs: number;
}

/** What Redis answered to a retried settle or release. */
export interface RetryAnswer {
  applied: boolean;
  status: ReservationStatus;
}

/** Errors the ledger's scripts raise on purpose (bad arguments). */
const SCRIPT_ERROR = /TOLLGATE_/;

/** How many retries are in flight at once; the rest wait for the next batch. */
const BATCH_SIZE = 64;

/**
 * Settles and releases that failed while Redis was unavailable, sent again once it answers.
 * A retry is safe whatever happened meanwhile: the ledger's `finish` script ends a
 * reservation only while it is open, so a retry of something that did land, or that its
 * lease already ended, changes nothing. Without the retry an orphaned reservation would
 * hold (and, under `charge-reserved`, be charged) its worst case until its lease passes.
 *
 * Memory is bounded by `limit` entries (a few hundred bytes each); past it the oldest is
 * dropped — its lease is the nearest to ending it anyway — with a `settlement-dropped` event.
 */
export class SettlementRetryQueue {
  /** By reservation id, oldest first; a repeated failure of the same id keeps its first entry. */
  private readonly pending = new Map<string, PendingSettlement>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly limit: number,
    private readonly retryEveryMillis: number,
    /** Whether a retry may be sent now (the client is connected). */
    private readonly canSend: () => boolean,
    private readonly send: (entry: PendingSettlement) => Promise<RetryAnswer>,
    private readonly emit: (event: RedisStoreEvent) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  add(entry: PendingSettlement): void {
    if (this.closed) {
      this.drop(entry, 'closed');
      return;
    }
    if (this.pending.has(entry.reservationId)) return;
    if (this.pending.size >= this.limit) {
      const oldest = this.pending.values().next().value as PendingSettlement;
      this.pending.delete(oldest.reservationId);
      this.drop(oldest, 'queue-full');
    }
    this.pending.set(entry.reservationId, entry);
    this.schedule();
  }

  /** Sends every pending entry while Redis answers; stops at the first failure and tries again later. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (this.pending.size > 0) this.schedule();
    });
    return this.flushing;
  }

  /** One last attempt if connected; whatever is left is reported as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0 && this.canSend()) await this.flush();
    else await this.flushing;
    this.closed = true;
    for (const entry of this.pending.values()) this.drop(entry, 'closed');
    this.pending.clear();
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && this.canSend()) {
      const batch = [...this.pending.values()].slice(0, BATCH_SIZE);
      const answers = await Promise.allSettled(batch.map((entry) => this.send(entry)));
      let failed = false;
      answers.forEach((answer, index) => {
        const entry = batch[index]!;
        if (answer.status === 'rejected') {
          // Redis refused the script itself (a bug, not an outage): sending it again cannot help.
          if (answer.reason instanceof Error && SCRIPT_ERROR.test(answer.reason.message)) {
            this.pending.delete(entry.reservationId);
            this.drop(entry, 'rejected', answer.reason);
            return;
          }
          failed = true;
          return;
        }
        this.pending.delete(entry.reservationId);
        this.emit({
          type: 'settlement-retried',
          timestampMs: Date.now(),
          operation: entry.mode === 'settled' ? 'settle' : 'release',
          reservationId: entry.reservationId,
          applied: answer.value.applied,
          status: answer.value.status,
          delayMillis: Date.now() - entry.firstFailedAtMs,
        });
      });
      if (failed) return;
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.retryEveryMillis);
    this.timer.unref();
  }

  private drop(entry: PendingSettlement, reason: SettlementDroppedEvent['reason'], error?: Error): void {
    this.emit({
      type: 'settlement-dropped',
      timestampMs: Date.now(),
      operation: entry.mode === 'settled' ? 'settle' : 'release',
      reservationId: entry.reservationId,
      reason,
      ...(error ? { error } : {}),
    });
  }
}
