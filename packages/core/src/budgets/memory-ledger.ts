import type {
  BudgetLedger,
  ExpiredReservation,
  LeaseExpiryPolicy,
  LedgerLine,
  LedgerWindow,
  LineState,
  ReservationStatus,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  ThresholdCrossing,
} from './budget-ledger';

export interface MemoryLedgerOptions {
  /** What an expired lease costs. @default 'charge-reserved' */
  leaseExpiry?: LeaseExpiryPolicy;
  /** Clock in epoch ms; tests inject a fake one. @default Date.now */
  clock?: () => number;
  /** How many final reservation statuses to remember for idempotent repeats. @default 10_000 */
  rememberedOutcomes?: number;
}

/**
 * Rolling windows count spend in this many slices. A slice stays counted until its end
 * leaves the window, so the rolling sum over-counts by at most one slice: it errs on the
 * side of refusing, never of overspending.
 */
const ROLLING_SLICES = 60;

/** The threshold a refusal for lack of room fires: 100 % of the limit. */
const EXHAUSTED = 1;

interface Counter {
  readonly key: string;
  limit: number;
  spent: number;
  reserved: number;
  readonly window: LedgerWindow;
  readonly thresholds: readonly number[];
  /** Thresholds already fired in the current window. */
  readonly fired: Set<number>;
  /** Rolling windows only: spend per slice, oldest first, as [sliceIndex, amount]. */
  readonly slices: Array<[number, number]>;
  /** Open reservations holding this counter; a counter is never dropped while held. */
  holders: number;
}

interface Reservation {
  readonly id: string;
  readonly counters: Counter[];
  readonly amounts: number[];
  readonly deadlineMs: number;
}

/**
 * A `BudgetLedger` in process memory. Every operation runs synchronously to completion,
 * which makes it atomic with respect to every other caller in the process.
 */
export class MemoryLedger implements BudgetLedger {
  private readonly counters = new Map<string, Counter>();
  private readonly open = new Map<string, Reservation>();
  private readonly outcomes = new Map<string, ReservationStatus>();
  /** Remembered ids in arrival order, as a ring: evicting the oldest costs O(1), where a Map's first key does not. */
  private readonly outcomeOrder: (string | undefined)[] = [];
  private outcomeNext = 0;
  private readonly pendingExpired: ExpiredReservation[] = [];
  readonly leaseExpiry: LeaseExpiryPolicy;
  private readonly clock: () => number;
  private readonly rememberedOutcomes: number;
  private nextDeadlineMs = Number.POSITIVE_INFINITY;
  private nextCounterSweepMs = 0;

  constructor(options: MemoryLedgerOptions = {}) {
    this.leaseExpiry = options.leaseExpiry ?? 'charge-reserved';
    this.clock = options.clock ?? Date.now;
    this.rememberedOutcomes = options.rememberedOutcomes ?? 10_000;
  }

  now(): number {
    return this.clock();
  }

  async peek(lines: readonly LedgerLine[]): Promise<LineState[]> {
    const nowMs = this.clock();
    return lines.map((line) => {
      const counter = this.counters.get(line.key);
      if (!counter)
        return {
          key: line.key,
          limit: line.limit,
          spent: 0,
          reserved: 0,
          resetAtMs: emptyResetAt(line.window, nowMs),
        };
      this.advance(counter, nowMs);
      return stateOf(counter, nowMs);
    });
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.reserveNow(request);
  }

  /** `reserve`, answered synchronously (the guard's own ledger is called this way: no promise hop). */
  reserveNow(request: ReserveRequest): ReserveResult {
    const nowMs = this.clock();
    this.expireDue(nowMs);
    if (this.open.has(request.reservationId) || this.outcomes.has(request.reservationId)) {
      throw new Error(`Reservation id "${request.reservationId}" was already used`);
    }
    // Checked before anything changes: a bad figure must not leave a counter half-updated.
    for (const line of request.lines) {
      checkAmount(`reserve(${request.reservationId}) amount`, line.amount, line.key);
      checkAmount(`reserve(${request.reservationId}) limit`, line.limit, line.key);
    }
    const counters = request.lines.map((line) => this.counterFor(line, nowMs));
    const ceilings = request.unlessUsedAbove;
    if (ceilings && counters.some((counter, index) => usedAbove(counter, ceilings[index]))) {
      return { ok: false, reason: 'used-above', lines: counters.map((counter) => stateOf(counter, nowMs)) };
    }
    for (let index = 0; index < counters.length; index++) {
      const counter = counters[index]!;
      const amount = request.lines[index]!.amount;
      if (counter.spent + counter.reserved + amount > counter.limit) {
        return { ok: false, reason: 'no-room', failedLine: index, state: stateOf(counter, nowMs) };
      }
    }
    const amounts = request.lines.map((line) => line.amount);
    counters.forEach((counter, index) => {
      counter.reserved += amounts[index]!;
      counter.holders++;
    });
    const deadlineMs = nowMs + request.leaseMillis;
    this.open.set(request.reservationId, { id: request.reservationId, counters, amounts, deadlineMs });
    if (deadlineMs < this.nextDeadlineMs) this.nextDeadlineMs = deadlineMs;
    return { ok: true, lines: counters.map((counter) => stateOf(counter, nowMs)) };
  }

  async settle(reservationId: string, actualAmounts: readonly number[]): Promise<SettleResult> {
    return this.settleNow(reservationId, actualAmounts);
  }

  /** `settle`, answered synchronously. */
  settleNow(reservationId: string, actualAmounts: readonly number[]): SettleResult {
    const reservation = this.open.get(reservationId);
    if (!reservation) return this.repeated(reservationId);
    // Every amount is checked before anything changes, so a refused settle leaves the
    // reservation open and whole: a later settle, a release or its lease still ends it.
    if (actualAmounts.length !== reservation.amounts.length) {
      throw new RangeError(
        `settle(${reservationId}) got ${actualAmounts.length} amounts for ${reservation.amounts.length} lines`,
      );
    }
    actualAmounts.forEach((amount, index) => {
      checkAmount(`settle(${reservationId}) amount`, amount, reservation.counters[index]!.key);
    });
    return this.finish(reservation, actualAmounts, 'settled');
  }

  async release(reservationId: string): Promise<SettleResult> {
    const reservation = this.open.get(reservationId);
    if (!reservation) return this.repeated(reservationId);
    return this.finish(
      reservation,
      reservation.amounts.map(() => 0),
      'released',
    );
  }

  async exhausted(lines: readonly LedgerLine[]): Promise<ThresholdCrossing[]> {
    const nowMs = this.clock();
    const crossed: ThresholdCrossing[] = [];
    lines.forEach((line, index) => {
      if (!line.thresholds.includes(EXHAUSTED)) return;
      const counter = this.counterFor(line, nowMs);
      if (counter.fired.has(EXHAUSTED)) return;
      counter.fired.add(EXHAUSTED);
      crossed.push({
        line: index,
        key: counter.key,
        threshold: EXHAUSTED,
        spent: counter.spent,
        limit: counter.limit,
      });
    });
    return crossed;
  }

  async collectExpired(): Promise<ExpiredReservation[]> {
    this.expireDue(this.clock());
    return this.pendingExpired.splice(0);
  }

  async close(): Promise<void> {}

  /** Reservations still open, for tests and diagnostics. */
  openReservations(): number {
    return this.open.size;
  }

  private finish(
    reservation: Reservation,
    actualAmounts: readonly number[],
    status: 'settled' | 'released',
  ): SettleResult {
    const nowMs = this.clock();
    this.open.delete(reservation.id);
    this.remember(reservation.id, status);
    const crossed: ThresholdCrossing[] = [];
    reservation.counters.forEach((counter, index) => {
      const actual = actualAmounts[index]!;
      this.advance(counter, nowMs);
      counter.reserved -= reservation.amounts[index]!;
      counter.holders--;
      this.charge(counter, actual, nowMs);
      crossed.push(...this.crossings(counter, index));
    });
    return {
      status,
      applied: true,
      crossed,
      lines: reservation.counters.map((counter) => stateOf(counter, nowMs)),
    };
  }

  private repeated(reservationId: string): SettleResult {
    return { status: this.outcomes.get(reservationId) ?? 'unknown', applied: false, crossed: [], lines: [] };
  }

  private remember(reservationId: string, status: ReservationStatus): void {
    if (this.rememberedOutcomes <= 0) return;
    if (this.outcomes.has(reservationId)) {
      this.outcomes.set(reservationId, status);
      return;
    }
    // Reading a Map's oldest key walks past every deleted entry before it, which grows with
    // each eviction until the table is rebuilt; a ring of ids evicts in constant time.
    const oldest = this.outcomeOrder[this.outcomeNext];
    if (oldest !== undefined) this.outcomes.delete(oldest);
    this.outcomeOrder[this.outcomeNext] = reservationId;
    this.outcomeNext = (this.outcomeNext + 1) % this.rememberedOutcomes;
    this.outcomes.set(reservationId, status);
  }

  private expireDue(nowMs: number): void {
    if (nowMs >= this.nextCounterSweepMs) this.dropIdleCounters(nowMs);
    if (nowMs < this.nextDeadlineMs) return;
    let next = Number.POSITIVE_INFINITY;
    for (const reservation of this.open.values()) {
      if (reservation.deadlineMs > nowMs) {
        next = Math.min(next, reservation.deadlineMs);
        continue;
      }
      const charged =
        this.leaseExpiry === 'charge-reserved' ? reservation.amounts : reservation.amounts.map(() => 0);
      const result = this.finish(reservation, charged, 'settled');
      this.remember(reservation.id, 'expired');
      this.pendingExpired.push({
        reservationId: reservation.id,
        policy: this.leaseExpiry,
        charged: [...charged],
        keys: reservation.counters.map((counter) => counter.key),
        crossed: result.crossed,
      });
    }
    this.nextDeadlineMs = next;
  }

  /** Calendar counters whose window has passed and that nobody holds are forgotten. */
  private dropIdleCounters(nowMs: number): void {
    for (const [key, counter] of this.counters) {
      if (counter.holders > 0) continue;
      if (
        counter.window.kind === 'calendar' ? nowMs >= counter.window.endMs : isRollingEmpty(counter, nowMs)
      ) {
        this.counters.delete(key);
      }
    }
    this.nextCounterSweepMs = nowMs + 60_000;
  }

  private counterFor(line: LedgerLine, nowMs: number): Counter {
    let counter = this.counters.get(line.key);
    if (!counter) {
      counter = {
        key: line.key,
        limit: line.limit,
        spent: 0,
        reserved: 0,
        window: line.window,
        thresholds: line.thresholds,
        fired: new Set(),
        slices: [],
        holders: 0,
      };
      this.counters.set(line.key, counter);
    }
    counter.limit = line.limit;
    this.advance(counter, nowMs);
    return counter;
  }

  /** Drops rolling-window slices that have left the window, re-arming thresholds the spend fell below. */
  private advance(counter: Counter, nowMs: number): void {
    if (counter.window.kind !== 'rolling') return;
    const sliceMs = sliceLength(counter.window.lengthMs);
    const windowStartMs = nowMs - counter.window.lengthMs;
    let dropped = false;
    while (counter.slices.length > 0 && (counter.slices[0]![0] + 1) * sliceMs <= windowStartMs) {
      counter.spent -= counter.slices.shift()![1];
      dropped = true;
    }
    if (dropped) {
      for (const threshold of counter.fired) {
        if (counter.spent < threshold * counter.limit) counter.fired.delete(threshold);
      }
    }
  }

  private charge(counter: Counter, amount: number, nowMs: number): void {
    if (amount === 0) return;
    counter.spent += amount;
    if (counter.window.kind !== 'rolling') return;
    // Spend lands in the slice of the moment it is known, so a long call is never counted as older than it is.
    const slice = Math.floor(nowMs / sliceLength(counter.window.lengthMs));
    const last = counter.slices[counter.slices.length - 1];
    if (last && last[0] === slice) last[1] += amount;
    else counter.slices.push([slice, amount]);
  }

  private crossings(counter: Counter, line: number): ThresholdCrossing[] {
    const crossed: ThresholdCrossing[] = [];
    for (const threshold of counter.thresholds) {
      if (counter.fired.has(threshold) || counter.spent < threshold * counter.limit) continue;
      counter.fired.add(threshold);
      crossed.push({ line, key: counter.key, threshold, spent: counter.spent, limit: counter.limit });
    }
    return crossed;
  }
}

/** Ledger figures are exact integers; anything else is refused before it can change a counter. */
function checkAmount(what: string, value: number, key: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} ${value} for ${key} is not a non-negative safe integer`);
  }
}

/** Whether the counter's use is past `ratio` (the same division the degradation rules make). */
function usedAbove(counter: Counter, ratio: number | undefined): boolean {
  return (
    ratio !== undefined && counter.limit > 0 && (counter.spent + counter.reserved) / counter.limit > ratio
  );
}

function sliceLength(lengthMs: number): number {
  return Math.max(1, Math.ceil(lengthMs / ROLLING_SLICES));
}

function isRollingEmpty(counter: Counter, nowMs: number): boolean {
  const window = counter.window as { lengthMs: number };
  const newest = counter.slices[counter.slices.length - 1];
  return !newest || (newest[0] + 1) * sliceLength(window.lengthMs) <= nowMs - window.lengthMs;
}

function stateOf(counter: Counter, nowMs: number): LineState {
  return {
    key: counter.key,
    limit: counter.limit,
    spent: counter.spent,
    reserved: counter.reserved,
    resetAtMs: resetAt(counter, nowMs),
  };
}

function resetAt(counter: Counter, nowMs: number): number {
  if (counter.window.kind === 'calendar') return counter.window.endMs;
  const oldest = counter.slices[0];
  if (!oldest) return nowMs;
  return (oldest[0] + 1) * sliceLength(counter.window.lengthMs) + counter.window.lengthMs;
}

function emptyResetAt(window: LedgerWindow, nowMs: number): number {
  return window.kind === 'calendar' ? window.endMs : nowMs;
}
