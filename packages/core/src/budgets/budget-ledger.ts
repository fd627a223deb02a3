/**
 * The store that holds budget counters and reservations. Every method is one atomic
 * operation — one round trip for a remote store — so no caller can observe or
 * interleave with a half-applied reservation.
 *
 * Amounts are integers in ledger units (nano-USD, tokens, requests): integer
 * arithmetic keeps sums exact in every store, server-side scripts included.
 */
export interface BudgetLedger {
  /** What an expired lease costs in this store; the guard reads it instead of keeping its own copy. */
  readonly leaseExpiry?: LeaseExpiryPolicy;

  /** The ledger's clock (epoch ms). Windows are computed against it so every process agrees on them. */
  now(): number;

  /** Reads the lines' current counters without changing anything. */
  peek(lines: readonly LedgerLine[]): Promise<LineState[]>;

  /**
   * Reserves every line's amount, or nothing: fails when any line's
   * `spent + reserved + amount` would pass its limit, or when a line is already used past its
   * `unlessUsedAbove` ratio (then it returns every line's state, as `peek` would read it).
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;

  /**
   * Replaces the reservation with actual amounts (one per line, in reservation order).
   * Idempotent by reservation id: a second settle, a settle after release or after
   * lease expiry changes nothing and reports the reservation's final status.
   */
  settle(reservationId: string, actualAmounts: readonly number[]): Promise<SettleResult>;

  /** Frees the reservation without charging anything. Idempotent like `settle`. */
  release(reservationId: string): Promise<SettleResult>;

  /**
   * Records that each line's counter refused a call for lack of room. A line whose thresholds
   * include 1 (100 %) fires it now unless it already fired in this window — by an earlier
   * refusal or by settled spend reaching the limit: a gate that reserves worst cases refuses
   * before spend gets there, so the refusal is what "exhausted" means.
   */
  exhausted(lines: readonly LedgerLine[]): Promise<ThresholdCrossing[]>;

  /** Ends every reservation whose lease has passed, applying the expiry policy; returns what it ended. */
  collectExpired(): Promise<ExpiredReservation[]>;

  /** Stops timers and frees resources. */
  close(): Promise<void>;
}

/** One budget instance touched by a call: which counter, its limit and window, and the call's amount. */
export interface LedgerLine {
  /** Counter identity: budget id, unit and scope values. Calendar windows add their start. */
  key: string;
  /** Limit in ledger units. */
  limit: number;
  /** Amount to reserve, in ledger units (for `peek`, the amount that must still fit). */
  amount: number;
  window: LedgerWindow;
  /**
   * Fractions of `limit` (ascending) that fire once per window when settled spend reaches them;
   * 1 also fires at the first refusal for lack of room (see `exhausted`).
   */
  thresholds: readonly number[];
}

/** A calendar window is fixed at admission; a rolling window slides with the ledger's clock. */
export type LedgerWindow =
  | { kind: 'calendar'; startMs: number; endMs: number }
  | { kind: 'rolling'; lengthMs: number };

export interface ReserveRequest {
  /** Unique id chosen by the caller; makes settle and release idempotent. */
  reservationId: string;
  lines: readonly LedgerLine[];
  /** How long the reservation may stay open before `collectExpired` ends it. */
  leaseMillis: number;
  /**
   * Per line (same order as `lines`), a use ratio: when a line's `(spent + reserved) / limit`
   * is already above it (and its limit is positive), nothing is reserved and the result carries
   * every line's state instead. The guard passes the ratios at which a degradation rule would act
   * on the call, so one operation both reads what the rules need and reserves when none acts.
   * Checked before room. Missing or `undefined` entries never stop a reservation.
   */
  unlessUsedAbove?: readonly (number | undefined)[];
}

/** A counter as seen by one operation. */
export interface LineState {
  key: string;
  limit: number;
  spent: number;
  reserved: number;
  /** When the window ends (calendar), or when the oldest counted spend leaves it (rolling). */
  resetAtMs: number;
}

export type ReserveResult =
  | { ok: true; lines: LineState[] }
  /** No room: `failedLine` is the index of the first line that could not hold its amount. */
  | { ok: false; reason: 'no-room'; failedLine: number; state: LineState }
  /** A line was used past its `unlessUsedAbove` ratio: nothing was reserved; every line's state. */
  | { ok: false; reason: 'used-above'; lines: LineState[] };

export type ReservationStatus = 'settled' | 'released' | 'expired' | 'unknown';

export interface SettleResult {
  /** `settled` / `released` when this call ended the reservation, or the earlier final status. */
  status: ReservationStatus;
  /** True when this call ended the reservation (false for a repeat or an unknown id). */
  applied: boolean;
  /** Thresholds crossed by this settle, at most once per counter per window. */
  crossed: ThresholdCrossing[];
  /** Counter states after the operation (empty when nothing was applied). */
  lines: LineState[];
}

export interface ThresholdCrossing {
  /** Index into the reservation's lines. */
  line: number;
  key: string;
  threshold: number;
  spent: number;
  limit: number;
}

/** What happens to a reservation whose lease runs out before it is settled. */
export type LeaseExpiryPolicy =
  /** Charge the full reserved amount: the request went out and may have been billed. */
  | 'charge-reserved'
  /** Free it: the caller is presumed to have made no billable request. */
  | 'release';

export interface ExpiredReservation {
  reservationId: string;
  policy: LeaseExpiryPolicy;
  /** Amounts charged per line (zeros under `release`). */
  charged: number[];
  keys: string[];
  crossed: ThresholdCrossing[];
}
