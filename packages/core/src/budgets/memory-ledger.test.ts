import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerLine } from './budget-ledger';
import { MemoryLedger } from './memory-ledger';

function calendarLine(key: string, limit: number, amount: number, thresholds: number[] = []): LedgerLine {
  return { key, limit, amount, window: { kind: 'calendar', startMs: 0, endMs: 3_600_000 }, thresholds };
}

function fakeClock(startMs = 1_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('MemoryLedger', () => {
  it('reserves across every line or none', async () => {
    const ledger = new MemoryLedger();
    const roomy = calendarLine('a', 100, 30);
    const tight = calendarLine('b', 10, 30);
    const result = await ledger.reserve({ reservationId: 'r1', lines: [roomy, tight], leaseMillis: 60_000 });
    expect(result).toMatchObject({ ok: false, failedLine: 1 });
    const [a, b] = await ledger.peek([roomy, tight]);
    expect(a).toMatchObject({ spent: 0, reserved: 0 });
    expect(b).toMatchObject({ spent: 0, reserved: 0 });
  });

  it('settle replaces the reservation with the actual amount and frees the difference', async () => {
    const ledger = new MemoryLedger();
    const line = calendarLine('a', 100, 60);
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
    expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 60_000 })).ok).toBe(
      false,
    );
    const settled = await ledger.settle('r1', [25]);
    expect(settled).toMatchObject({ status: 'settled', applied: true });
    expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 25, reserved: 0 });
    expect((await ledger.reserve({ reservationId: 'r3', lines: [line], leaseMillis: 60_000 })).ok).toBe(true);
  });

  it('is idempotent by reservation id', async () => {
    const ledger = new MemoryLedger();
    const line = calendarLine('a', 100, 40);
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
    await ledger.settle('r1', [10]);
    expect(await ledger.settle('r1', [10])).toMatchObject({ status: 'settled', applied: false });
    expect(await ledger.release('r1')).toMatchObject({ status: 'settled', applied: false });
    expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 10, reserved: 0 });
    expect(await ledger.release('never-made')).toMatchObject({ status: 'unknown', applied: false });
  });

  it('refuses a reused reservation id', async () => {
    const ledger = new MemoryLedger();
    const line = calendarLine('a', 100, 1);
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 });
    await expect(ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 60_000 })).rejects.toThrow(
      /already used/,
    );
  });

  it('charges an expired lease in full under charge-reserved', async () => {
    const clock = fakeClock();
    const ledger = new MemoryLedger({ clock: clock.now });
    const line = calendarLine('a', 100, 70);
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 5_000 });
    clock.advance(4_999);
    expect(await ledger.collectExpired()).toEqual([]);
    clock.advance(1);
    const expired = await ledger.collectExpired();
    expect(expired).toEqual([
      { reservationId: 'r1', policy: 'charge-reserved', charged: [70], keys: ['a'], crossed: [] },
    ]);
    expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 70, reserved: 0 });
    expect(await ledger.settle('r1', [5])).toMatchObject({ status: 'expired', applied: false });
    expect(ledger.openReservations()).toBe(0);
  });

  it('frees an expired lease under release', async () => {
    const clock = fakeClock();
    const ledger = new MemoryLedger({ clock: clock.now, leaseExpiry: 'release' });
    const line = calendarLine('a', 100, 70);
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 5_000 });
    clock.advance(5_000);
    expect((await ledger.collectExpired())[0]).toMatchObject({ policy: 'release', charged: [0] });
    expect((await ledger.peek([line]))[0]).toMatchObject({ spent: 0, reserved: 0 });
  });

  it('expires due leases before deciding a new reservation', async () => {
    const clock = fakeClock();
    const ledger = new MemoryLedger({ clock: clock.now, leaseExpiry: 'release' });
    const line = calendarLine('a', 100, 100);
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 1_000 });
    clock.advance(1_000);
    expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 1_000 })).ok).toBe(true);
    expect(await ledger.collectExpired()).toHaveLength(1);
  });

  it('fires each threshold once per counter, on settled spend', async () => {
    const ledger = new MemoryLedger();
    const line = calendarLine('a', 100, 10, [0.5, 0.8, 1]);
    const crossed: number[] = [];
    for (let i = 0; i < 12; i++) {
      const result = await ledger.reserve({ reservationId: `r${i}`, lines: [line], leaseMillis: 60_000 });
      if (!result.ok) break;
      crossed.push(...(await ledger.settle(`r${i}`, [10])).crossed.map((c) => c.threshold));
    }
    expect(crossed).toEqual([0.5, 0.8, 1]);
  });

  it('slides a rolling window: spend leaves it after the window length', async () => {
    const clock = fakeClock(0);
    const ledger = new MemoryLedger({ clock: clock.now });
    const line: LedgerLine = {
      key: 'roll',
      limit: 10,
      amount: 10,
      window: { kind: 'rolling', lengthMs: 60_000 },
      thresholds: [1],
    };
    await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 120_000 });
    const first = await ledger.settle('r1', [10]);
    expect(first.crossed.map((c) => c.threshold)).toEqual([1]);
    clock.advance(30_000);
    expect((await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 120_000 })).ok).toBe(
      false,
    );
    const [state] = await ledger.peek([line]);
    expect(state!.resetAtMs).toBe(61_000); // the first slice (1 s long) leaves the window at 60 s + 1 s
    clock.advance(31_000);
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
              // Actual usage as a fraction of the reservation; the outcome decides settle, release or abandon.
              usedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
              outcome: fc.constantFrom('settle', 'release', 'abandon'),
            }),
            { minLength: 50, maxLength: 300 },
          ),
        }),
        fc.scheduler(),
        async ({ limits, calls }, scheduler) => {
          const clock = fakeClock();
          const ledger = new MemoryLedger({ clock: clock.now });
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
          clock.advance(10_000);
          const expired = await ledger.collectExpired();
          expect(overshoot).toBe(false);
          expect(ledger.openReservations()).toBe(0);
          expect(expired.length).toBe(outcomes.filter((outcome) => outcome === 'abandon').length);
          for (const state of await ledger.peek(probe)) {
            expect(state.reserved).toBe(0);
            expect(state.spent).toBeLessThanOrEqual(state.limit);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 30_000);
});
