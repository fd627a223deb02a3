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
