import { describe, expect, it } from 'vitest';
import {
  BUDGET_UNIT_NAMES,
  BUDGET_UNITS,
  ledgerAmount,
  NANO_USD_PER_USD,
  NO_AMOUNTS,
  reservationAmounts,
  toDisplayUnits,
  toLedgerLimit,
} from './budget-units';

describe('budget units', () => {
  it('reserve a call from its worst case: USD in whole nano-dollars rounded up, tokens, one request', () => {
    expect(reservationAmounts({ worstCaseUsd: 0.000_000_000_4, worstCaseTokens: 1_200 })).toEqual({
      usd: 1,
      tokens: 1_200,
      requests: 1,
    });
    // An unpriced call reserves nothing in USD (a USD budget refuses it before this).
    expect(reservationAmounts({ worstCaseUsd: undefined, worstCaseTokens: 10 }).usd).toBe(0);
  });

  it('charge actual usage, or what was reserved when the call reported none or its cost is unknown', () => {
    const reported = { usageReported: true, costUsd: 0.25, tokens: 300 };
    expect(BUDGET_UNITS.usd.charge(reported)).toBe(0.25 * NANO_USD_PER_USD);
    expect(BUDGET_UNITS.tokens.charge(reported)).toBe(300);
    expect(BUDGET_UNITS.requests.charge(reported)).toBe(1);
    expect(BUDGET_UNITS.usd.charge({ ...reported, usageReported: false })).toBeUndefined();
    expect(BUDGET_UNITS.usd.charge({ ...reported, costUsd: Number.NaN })).toBeUndefined();
    // Reported usage of an unpriced model costs nothing in USD.
    expect(BUDGET_UNITS.usd.charge({ ...reported, costUsd: undefined })).toBe(0);
  });

  it('convert limits to exact ledger integers and back', () => {
    expect(toLedgerLimit('usd', 25.5)).toBe(25_500_000_000);
    expect(toLedgerLimit('tokens', 1_000)).toBe(1_000);
    expect(toDisplayUnits('usd', 25_500_000_000)).toBe(25.5);
    expect(toDisplayUnits('requests', 7)).toBe(7);
    // A counter written by a newer version, with a unit this one does not know, reads as stored.
    expect(toDisplayUnits('pages' as 'tokens', 7)).toBe(7);
  });

  it('say which units need a price or a bounded output to bound a call', () => {
    expect(BUDGET_UNIT_NAMES.filter((unit) => BUDGET_UNITS[unit].needsPrice)).toEqual(['usd']);
    expect(BUDGET_UNIT_NAMES.filter((unit) => BUDGET_UNITS[unit].needsOutputBound)).toEqual([
      'usd',
      'tokens',
    ]);
    expect(BUDGET_UNIT_NAMES.every((unit) => NO_AMOUNTS[unit] === 0)).toBe(true);
  });

  it('clamp amounts to exact non-negative integers', () => {
    expect(ledgerAmount(-3)).toBe(0);
    expect(ledgerAmount(2.1)).toBe(3);
    expect(ledgerAmount(Number.NaN)).toBe(Number.MAX_SAFE_INTEGER);
    expect(ledgerAmount(Number.POSITIVE_INFINITY)).toBe(Number.MAX_SAFE_INTEGER);
  });
});
