/**
 * Everything Tollgate knows about each unit a budget can count, in one table: how a limit is
 * validated and stored, what a call reserves and is charged, and what the unit needs to bound
 * a call at all. Adding a unit is adding an entry here.
 */

/** Budgets count USD in integer nano-dollars so every store adds them exactly. */
export const NANO_USD_PER_USD = 1_000_000_000;
/** Largest USD limit whose nano-dollar count stays an exact double (2^53). */
export const MAX_USD_LIMIT = 9_000_000;

/** What a call is known to need before it is sent (its worst case). */
export interface ReservationMeasure {
  /** Undefined for an unpriced model. */
  readonly worstCaseUsd: number | undefined;
  readonly worstCaseTokens: number;
}

/** What a finished call is known to have used. */
export interface SettlementMeasure {
  /** Whether the call reported any usage; without it, every unit charges what was reserved. */
  readonly usageReported: boolean;
  /** Cost of the usage at list price; undefined for an unpriced model, NaN when not computable. */
  readonly costUsd: number | undefined;
  /** Input plus output tokens, unknown counts taken at their worst case. */
  readonly tokens: number;
}

/** How one budget unit behaves. Amounts are in ledger units: exact non-negative integers. */
export interface BudgetUnitRule {
  /** How the unit is named in messages. */
  readonly label: string;
  /** Ledger units per unit as users see it (nano-dollars per dollar for USD). */
  readonly ledgerPerDisplay: number;
  /** Whether a configured limit must be a whole number. */
  readonly wholeLimits: boolean;
  /** Largest limit that can be configured, in the unit as users see it. */
  readonly maxLimit: number;
  /** A budget in this unit cannot bound a call whose model has no price. */
  readonly needsPrice: boolean;
  /** A budget in this unit cannot bound a call whose output nothing caps. */
  readonly needsOutputBound: boolean;
  /** What a call reserves before it is sent. */
  reserve(measure: ReservationMeasure): number;
  /** What a finished call is charged; undefined charges exactly what was reserved. */
  charge(measure: SettlementMeasure): number | undefined;
}

const UNIT_RULES = {
  usd: {
    label: 'estimated USD',
    ledgerPerDisplay: NANO_USD_PER_USD,
    wholeLimits: false,
    maxLimit: MAX_USD_LIMIT,
    needsPrice: true,
    needsOutputBound: true,
    reserve: (measure) => ledgerAmount(Math.ceil((measure.worstCaseUsd ?? 0) * NANO_USD_PER_USD)),
    // Nothing reported (or no cost computable from it): the reserved amount, rather than a
    // recomputation that could differ by rounding.
    charge: (measure) =>
      !measure.usageReported || Number.isNaN(measure.costUsd)
        ? undefined
        : ledgerAmount(Math.round((measure.costUsd ?? 0) * NANO_USD_PER_USD)),
  },
  tokens: {
    label: 'tokens',
    ledgerPerDisplay: 1,
    wholeLimits: true,
    maxLimit: Number.MAX_SAFE_INTEGER,
    needsPrice: false,
    needsOutputBound: true,
    reserve: (measure) => ledgerAmount(measure.worstCaseTokens),
    charge: (measure) => ledgerAmount(measure.tokens),
  },
  requests: {
    label: 'requests',
    ledgerPerDisplay: 1,
    wholeLimits: true,
    maxLimit: Number.MAX_SAFE_INTEGER,
    needsPrice: false,
    needsOutputBound: false,
    reserve: () => 1,
    charge: () => 1,
  },
} satisfies Record<string, BudgetUnitRule>;

/** What a budget counts: estimated US dollars, tokens (input + output), or requests. */
export type BudgetUnit = keyof typeof UNIT_RULES;

/** Every unit's rule, by name. */
export const BUDGET_UNITS: Readonly<Record<BudgetUnit, BudgetUnitRule>> = UNIT_RULES;

/** Every unit, in the order budgets list their limits. */
export const BUDGET_UNIT_NAMES = Object.keys(BUDGET_UNITS) as readonly BudgetUnit[];

/** A call's amounts in ledger units, one per budget unit. */
export type LedgerAmounts = Record<BudgetUnit, number>;

/** What a call reserves in every unit. */
export function reservationAmounts(measure: ReservationMeasure): LedgerAmounts {
  const amounts = {} as LedgerAmounts;
  for (const unit of BUDGET_UNIT_NAMES) amounts[unit] = BUDGET_UNITS[unit].reserve(measure);
  return amounts;
}

/** Nothing in every unit: plans the lines of a budget only to read them. */
export const NO_AMOUNTS: Readonly<LedgerAmounts> = Object.freeze(
  Object.fromEntries(BUDGET_UNIT_NAMES.map((unit) => [unit, 0])) as LedgerAmounts,
);

/** A configured limit, in the unit as users see it, as a ledger amount. */
export function toLedgerLimit(unit: BudgetUnit, limit: number): number {
  return Math.round(limit * BUDGET_UNITS[unit].ledgerPerDisplay);
}

/** Converts a ledger amount to the budget's unit as users see it (USD instead of nano-USD). */
export function toDisplayUnits(unit: BudgetUnit, amount: number): number {
  // A key read back from a shared store may name a unit this version does not know: shown as stored.
  return amount / (BUDGET_UNITS[unit]?.ledgerPerDisplay ?? 1);
}

/**
 * Ledger amounts are exact non-negative integers: a figure beyond what a double holds exactly
 * (or not a number at all) is clamped to the largest one, which any limit then refuses.
 */
export function ledgerAmount(value: number): number {
  if (Number.isNaN(value)) return Number.MAX_SAFE_INTEGER;
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.ceil(value)));
}
