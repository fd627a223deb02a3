import type { BudgetConfig } from '@tollgate/core';
import { listBudgetCounters } from '@tollgate/redis';
import { CliError } from '../cli-error';
import type { BudgetReading } from './budget-row';

export interface RedisSourceOptions {
  url: string;
  keyPrefix?: string;
  leaseExpiry?: 'charge-reserved' | 'release';
  budgets: readonly BudgetConfig[] | undefined;
}

/**
 * Reads every budget counter of the current windows from the Redis ledger, at the Redis server's
 * time. With a config, limits are the configured ones (the ledger keeps the last one a guard set).
 */
export async function readRedisBudgets(
  options: RedisSourceOptions,
): Promise<{ nowMs: number; readings: BudgetReading[] }> {
  let listing: Awaited<ReturnType<typeof listBudgetCounters>>;
  try {
    listing = await listBudgetCounters({
      url: options.url,
      keyPrefix: options.keyPrefix,
      leaseExpiry: options.leaseExpiry,
    });
  } catch (error) {
    throw new CliError(
      `Cannot read budgets from Redis at ${redactUrl(options.url)}: ${(error as Error).message}`,
    );
  }
  const readings = listing.counters.map((counter): BudgetReading => {
    const configured = options.budgets?.find((budget) => budget.id === counter.budgetId)?.limit[counter.unit];
    return {
      budgetId: counter.budgetId,
      unit: counter.unit,
      scope: counter.scope as Record<string, string>,
      limit: configured ?? counter.limit,
      spent: counter.spent,
      reserved: counter.reserved,
      window: counter.window,
      resetAtMs: counter.resetAtMs,
    };
  });
  return { nowMs: listing.nowMs, readings };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
