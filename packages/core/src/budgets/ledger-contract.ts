import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BudgetLedger, LeaseExpiryPolicy, LedgerLine } from './budget-ledger';

/** A ledger under test, with a way to move its clock forward. */
export interface LedgerUnderTest {
  ledger: BudgetLedger;
  /** Moves the ledger's clock forward (a fake clock, or the scripts' clock shift). */
  advance(millis: number): void;
  /** Reservations still open. */
  openReservations(): Promise<number>;
}

export interface LedgerContractOptions {
  /** Makes a fresh, empty ledger. */
  create(options: { leaseExpiry?: LeaseExpiryPolicy }): Promise<LedgerUnderTest>;
  /** Runs of the concurrency property (each is hundreds of operations). */
  propertyRuns: number;
}

function calendarLine(key: string, limit: number, amount: number, thresholds: number[] = []): LedgerLine {
  return {
    key,
    limit,
    amount,
    window: { kind: 'calendar', startMs: 0, endMs: Date.now() + 3_600_000 },
    thresholds,
  };
}

/**
 * The behaviour every `BudgetLedger` owes the guard, written once and run against each
 * store: the memory ledger (in this package's tests) is the reference, and each store
 * package's ledger (in that package's tests) must match it. Test support only: not part of the build.
 */
export function describeLedgerContract(name: string, contract: LedgerContractOptions): void {
  describe(`${name} — BudgetLedger contract`, () => {
    it('reserves across every line or none', async () => {
      const { ledger } = await contract.create({});
      const roomy = calendarLine('a', 100, 30);
      const tight = calendarLine('b', 10, 30);
      const result = await ledger.reserve({
        reservationId: 'r1',
        lines: [roomy, tight],
        leaseMillis: 60_000,
      });
      expect(result).toMatchObject({
        ok: false,
        reason: 'no-room',
        failedLine: 1,
        state: { key: 'b', limit: 10 },
      });
      const [a, b] = await ledger.peek([roomy, tight]);
      expect(a).toMatchObject({ spent: 0, reserved: 0 });
      expect(b).toMatchObject({ spent: 0, reserved: 0 });
    });

    it('stops a reservation at a line used past its ratio and returns every line as it read it', async () => {
      const { ledger, openReservations } = await contract.create({});
      const a = calendarLine('a', 100, 10);
      const b = calendarLine('b', 200, 10);
      await ledger.reserve({ reservationId: 'r1', lines: [a], leaseMillis: 60_000 });
      await ledger.settle('r1', [40]);
      await ledger.reserve({ reservationId: 'r2', lines: [a], leaseMillis: 60_000 });
      // `a` is 50 % used (40 spent, 10 reserved): 0.49 stops the reservation, 0.5 does not.
      const reserve = (unlessUsedAbove: (number | undefined)[]) =>
        ledger.reserve({ reservationId: 'r3', lines: [b, a], leaseMillis: 60_000, unlessUsedAbove });
      expect(await reserve([undefined, 0.49])).toMatchObject({
        ok: false,
        reason: 'used-above',
        lines: [
          { key: 'b', spent: 0, reserved: 0, limit: 200 },
          { key: 'a', spent: 40, reserved: 10, limit: 100 },
        ],
      });
      expect(await openReservations()).toBe(1);
      // Nothing was made under the id, so it reserves once no ratio stops it.
      expect(await reserve([0.99, 0.5])).toMatchObject({
        ok: true,
        lines: [{ reserved: 10 }, { reserved: 20 }],
      });
      expect(await openReservations()).toBe(2);
    });

    it('checks use ratios before room, and never stops at a line without a positive limit', async () => {
      const { ledger } = await contract.create({});
      const full = calendarLine('a', 10, 10);
      await ledger.reserve({ reservationId: 'r1', lines: [full], leaseMillis: 60_000 });
      const again = (id: string, unlessUsedAbove?: number[]) =>
        ledger.reserve({ reservationId: id, lines: [full], leaseMillis: 60_000, unlessUsedAbove });
      expect(await again('r2', [0.9])).toMatchObject({ ok: false, reason: 'used-above' });
      expect(await again('r3')).toMatchObject({ ok: false, reason: 'no-room', failedLine: 0 });
      const unlimited = calendarLine('z', 0, 0);
      expect(
        await ledger.reserve({
          reservationId: 'r4',
          lines: [unlimited],
          leaseMillis: 60_000,
          unlessUsedAbove: [-1],
        }),
      ).toMatchObject({ ok: true });
    });

    it('settle replaces the reservation with the actual amount and frees the difference', async () => {
      const { ledger } = await contract.create({});
      const line = calendarLine('a', 100, 60);
      const first = await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
      expect(first).toMatchObject({ ok: true, lines: [{ key: 'a', spent: 0, reserved: 60, limit: 100 }] });
      expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 60_000 })).ok).toBe(
        false,
      );
      const settled = await ledger.settle('r1', [25]);
      expect(settled).toMatchObject({
        status: 'settled',
        applied: true,
        lines: [{ key: 'a', spent: 25, reserved: 0 }],
      });
      expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 25, reserved: 0 });
      expect((await ledger.reserve({ reservationId: 'r3', lines: [line], leaseMillis: 60_000 })).ok).toBe(
        true,
      );
    });

    it('is idempotent by reservation id', async () => {
      const { ledger } = await contract.create({});
      const line = calendarLine('a', 100, 40);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
      await ledger.settle('r1', [10]);
      expect(await ledger.settle('r1', [10])).toMatchObject({ status: 'settled', applied: false });
      expect(await ledger.release('r1')).toMatchObject({ status: 'settled', applied: false });
      expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 10, reserved: 0 });
      expect(await ledger.release('never-made')).toMatchObject({ status: 'unknown', applied: false });
      await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 60_000 });
      expect(await ledger.release('r2')).toMatchObject({ status: 'released', applied: true });
      expect(await ledger.settle('r2', [5])).toMatchObject({ status: 'released', applied: false });
      expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 10, reserved: 0 });
    });

    it('refuses a reused reservation id', async () => {
      const { ledger } = await contract.create({});
      const line = calendarLine('a', 100, 1);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
      await expect(
        ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 }),
      ).rejects.toThrow(/already used/);
    });

    it('refuses a settle with a bad amount before changing anything: the reservation stays whole', async () => {
      const { ledger, openReservations } = await contract.create({});
      const first = calendarLine('a', 1_000, 60);
      const second = calendarLine('b', 1_000, 40);
      await ledger.reserve({ reservationId: 'r1', lines: [first, second], leaseMillis: 60_000 });
      const bad: number[][] = [
        [10, 10.5],
        [10, -1],
        [10, Number.NaN],
        [10, Number.POSITIVE_INFINITY],
        [10, 2 ** 53 + 2],
        [10],
        [10, 10, 10],
      ];
      for (const amounts of bad) {
        await expect(ledger.settle('r1', amounts), `settle ${amounts}`).rejects.toThrow();
        expect(await ledger.peek([first, second])).toMatchObject([
          { spent: 0, reserved: 60 },
          { spent: 0, reserved: 40 },
        ]);
        expect(await openReservations()).toBe(1);
      }
      // Still open: a valid settle ends it as if nothing had happened.
      expect(await ledger.settle('r1', [25, 5])).toMatchObject({ status: 'settled', applied: true });
      expect(await ledger.peek([first, second])).toMatchObject([
        { spent: 25, reserved: 0 },
        { spent: 5, reserved: 0 },
      ]);
      expect(await openReservations()).toBe(0);
    });

    it('refuses a reservation with a bad amount and changes nothing', async () => {
      const { ledger, openReservations } = await contract.create({});
      const good = calendarLine('a', 1_000, 10);
      for (const amount of [1.5, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
        const bad = calendarLine('b', 1_000, amount);
        await expect(
          ledger.reserve({ reservationId: `bad-${amount}`, lines: [good, bad], leaseMillis: 60_000 }),
        ).rejects.toThrow();
      }
      expect((await ledger.peek([good]))[0]).toMatchObject({ spent: 0, reserved: 0 });
      expect(await openReservations()).toBe(0);
    });

    it('charges an expired lease in full under charge-reserved', async () => {
      const { ledger, advance, openReservations } = await contract.create({});
      const line = calendarLine('a', 100, 70);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 5_000 });
      advance(4_000);
      expect(await ledger.collectExpired()).toEqual([]);
      advance(1_000);
      const expired = await ledger.collectExpired();
      expect(expired).toEqual([
        { reservationId: 'r1', policy: 'charge-reserved', charged: [70], keys: ['a'], crossed: [] },
      ]);
      expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 70, reserved: 0 });
      expect(await ledger.settle('r1', [5])).toMatchObject({ status: 'expired', applied: false });
      expect(await openReservations()).toBe(0);
    });

    it('frees an expired lease under release', async () => {
      const { ledger, advance } = await contract.create({ leaseExpiry: 'release' });
      const line = calendarLine('a', 100, 70);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 5_000 });
      advance(5_000);
      expect((await ledger.collectExpired())[0]).toMatchObject({ policy: 'release', charged: [0] });
      expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 0, reserved: 0 });
    });

    it('expires due leases before deciding a new reservation, and reports them once', async () => {
      const { ledger, advance } = await contract.create({ leaseExpiry: 'release' });
      const line = calendarLine('a', 100, 100);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 1_000 });
      advance(1_000);
      expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 1_000 })).ok).toBe(
        true,
      );
      expect(await ledger.collectExpired()).toMatchObject([{ reservationId: 'r1', keys: ['a'] }]);
      expect(await ledger.collectExpired()).toEqual([]);
    });

    it('fires each threshold once per counter, on settled spend', async () => {
      const { ledger } = await contract.create({});
      const line = calendarLine('a', 100, 10, [0.5, 0.8, 1]);
      const crossed: number[] = [];
      for (let i = 0; i < 12; i++) {
        const result = await ledger.reserve({ reservationId: `r${i}`, lines: [line], leaseMillis: 60_000 });
        if (!result.ok) break;
        const settled = await ledger.settle(`r${i}`, [10]);
        for (const crossing of settled.crossed) {
          expect(crossing).toMatchObject({ line: 0, key: 'a', limit: 100 });
          crossed.push(crossing.threshold);
        }
      }
      expect(crossed).toEqual([0.5, 0.8, 1]);
    });

    it('fires the 100 % threshold at the first refusal for lack of room, once per window', async () => {
      const { ledger } = await contract.create({});
      const line = calendarLine('a', 100, 60, [0.5, 1]);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
      await ledger.settle('r1', [60]);
      // The next worst case (60) no longer fits at 60 % spent: the budget is exhausted for it.
      expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 60_000 })).ok).toBe(
        false,
      );
      expect(await ledger.exhausted([line])).toEqual([
        { line: 0, key: 'a', threshold: 1, spent: 60, limit: 100 },
      ]);
      expect(await ledger.exhausted([line])).toEqual([]);
      // Settled spend reaching the limit later does not fire it a second time.
      const small = calendarLine('a', 100, 40, [0.5, 1]);
      await ledger.reserve({ reservationId: 'r3', lines: [small], leaseMillis: 60_000 });
      expect((await ledger.settle('r3', [40])).crossed).toEqual([]);
    });

    it('fires nothing on a refusal when the line has no 100 % threshold, or settled spend fired it', async () => {
      const { ledger } = await contract.create({});
      expect(await ledger.exhausted([calendarLine('a', 100, 10, [0.5])])).toEqual([]);
      const line = calendarLine('b', 100, 100, [1]);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
      expect((await ledger.settle('r1', [100])).crossed).toMatchObject([{ threshold: 1 }]);
      expect(await ledger.exhausted([line])).toEqual([]);
      // The other lines of the call are told apart by index.
      expect(await ledger.exhausted([calendarLine('c', 5, 9, []), calendarLine('d', 5, 9, [1])])).toEqual([
        { line: 1, key: 'd', threshold: 1, spent: 0, limit: 5 },
      ]);
    });

    it('reports threshold crossings of an expired lease', async () => {
      const { ledger, advance } = await contract.create({});
      const line = calendarLine('a', 100, 90, [0.5]);
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 1_000 });
      advance(1_000);
      const [expired] = await ledger.collectExpired();
      expect(expired!.crossed).toEqual([{ line: 0, key: 'a', threshold: 0.5, spent: 90, limit: 100 }]);
    });

    it('slides a rolling window: spend leaves it after the window length', async () => {
      const { ledger, advance } = await contract.create({});
      const line: LedgerLine = {
        key: 'roll',
        limit: 10,
        amount: 10,
        window: { kind: 'rolling', lengthMs: 60_000 },
        thresholds: [1],
      };
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 120_000 });
      const before = ledger.now();
      const first = await ledger.settle('r1', [10]);
      const after = ledger.now();
      expect(first.crossed.map((c) => c.threshold)).toEqual([1]);
      advance(30_000);
      expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 120_000 })).ok).toBe(
        false,
      );
      const [state] = await ledger.peek([line]);
      // The spend sits in a 1 s slice, which leaves the window 60 s after the slice ends.
      expect(state!.resetAtMs % 1_000).toBe(0);
      expect(state!.resetAtMs - 61_000).toBeGreaterThan(before - 1_050);
      expect(state!.resetAtMs - 61_000).toBeLessThanOrEqual(after + 50);
      advance(31_000);
      expect((await ledger.reserve({ reservationId: 'r3', lines: [line], leaseMillis: 120_000 })).ok).toBe(
        true,
      );
      // The threshold re-armed once the spend left the window.
      expect((await ledger.settle('r3', [10])).crossed.map((c) => c.threshold)).toEqual([1]);
    });

    it('never lets concurrent reservations overshoot any limit, and every reservation ends', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            limits: fc.tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 500 })),
            calls: fc.array(
              fc.record({
                amounts: fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 120 })),
                usedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
                outcome: fc.constantFrom('settle', 'release', 'abandon'),
              }),
              { minLength: 50, maxLength: 300 },
            ),
          }),
          fc.scheduler(),
          async ({ limits, calls }, scheduler) => {
            const { ledger, advance, openReservations } = await contract.create({});
            const linesFor = (amounts: [number, number]) => [
              calendarLine('x', limits[0], amounts[0]),
              calendarLine('y', limits[1], amounts[1]),
            ];
            const probe = linesFor([0, 0]);
            let overshoot = false;
            const check = async () => {
              for (const state of await ledger.peek(probe)) {
                if (state.spent + state.reserved > state.limit) overshoot = true;
              }
            };
            const running = Promise.all(
              calls.map((call, index) =>
                scheduler.schedule(Promise.resolve(), `call ${index}`).then(async () => {
                  const id = `r${index}`;
                  const reserved = await ledger.reserve({
                    reservationId: id,
                    lines: linesFor(call.amounts),
                    leaseMillis: 10_000,
                  });
                  await check();
                  if (!reserved.ok) return 'rejected';
                  await scheduler.schedule(Promise.resolve(), `finish ${index}`);
                  if (call.outcome === 'settle') {
                    await ledger.settle(
                      id,
                      call.amounts.map((amount) => Math.floor(amount * call.usedFraction)),
                    );
                  } else if (call.outcome === 'release') {
                    await ledger.release(id);
                  }
                  await check();
                  return call.outcome;
                }),
              ),
            );
            const outcomes = await scheduler.waitFor(running);
            advance(10_000);
            const expired = await ledger.collectExpired();
            expect(overshoot).toBe(false);
            expect(await openReservations()).toBe(0);
            expect(expired.length).toBe(outcomes.filter((outcome) => outcome === 'abandon').length);
            for (const state of await ledger.peek(probe)) {
              expect(state.reserved).toBe(0);
              expect(state.spent).toBeLessThanOrEqual(state.limit);
            }
            await ledger.close();
          },
        ),
        { numRuns: contract.propertyRuns },
      );
    }, 60_000);
  });
}
