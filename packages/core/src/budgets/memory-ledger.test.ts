import { describe, expect, it } from 'vitest';
import { describeLedgerContract } from './ledger-contract';
import { MemoryLedger } from './memory-ledger';

// The memory ledger is the reference implementation of the shared ledger contract.
describeLedgerContract('MemoryLedger', {
  propertyRuns: 60,
  async create({ leaseExpiry }) {
    let nowMs = Date.now();
    const ledger = new MemoryLedger({ leaseExpiry, clock: () => nowMs });
    return {
      ledger,
      advance: (millis) => {
        nowMs += millis;
      },
      openReservations: async () => ledger.openReservations(),
    };
  },
});

describe('MemoryLedger outcome memory', () => {
  it('remembers the last rememberedOutcomes reservations for idempotent repeats, forgetting the oldest', async () => {
    const ledger = new MemoryLedger({ rememberedOutcomes: 3 });
    const line = {
      key: 'k',
      limit: 1_000,
      amount: 1,
      window: { kind: 'calendar' as const, startMs: 0, endMs: Date.now() + 3_600_000 },
      thresholds: [],
    };
    for (let index = 0; index < 5; index++) {
      await ledger.reserve({ reservationId: `r${index}`, lines: [line], leaseMillis: 60_000 });
      await ledger.settle(`r${index}`, [1]);
    }
    const statuses = await Promise.all(
      [0, 1, 2, 3, 4].map(async (index) => (await ledger.settle(`r${index}`, [1])).status),
    );
    expect(statuses).toEqual(['unknown', 'unknown', 'settled', 'settled', 'settled']);
  });
});
