// Test support for packages built on core and for custom ledgers. Loads vitest, fast-check and the
// OpenTelemetry SDK packages (optional peer dependencies): import it from tests only.

// The behaviour every BudgetLedger owes the guard
export type { LedgerContractOptions, LedgerUnderTest } from '../budgets/ledger-contract';
export { describeLedgerContract } from '../budgets/ledger-contract';

// In-memory telemetry
export type { TelemetryHarness } from './telemetry-harness';
export { telemetryHarness } from './telemetry-harness';
