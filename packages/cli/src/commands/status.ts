import type { BudgetConfig } from '@tollgate/core';
import { usageError } from '../cli-error';
import { loadConfig } from '../config/load-config';
import type { Colors } from '../output/colors';
import { type BudgetReading, type BudgetRow, byShareUsed, toRow, unusedBudgets } from '../status/budget-row';
import { readPrometheusBudgets } from '../status/prometheus-source';
import { readRedisBudgets, redactUrl } from '../status/redis-source';
import { renderStatus } from '../status/render-status';
import { watchLoop } from '../status/watch-screen';

export interface StatusOptions {
  redis?: string;
  keyPrefix?: string;
  prometheus?: string;
  config?: string;
  json?: boolean;
  watch?: string | boolean;
}

/**
 * `tollgate status`: every budget instance of the current windows, most used first, from the
 * Redis ledger or from Prometheus. `--watch` redraws it in place; `--json` is for scripts.
 */
export async function statusCommand(
  options: StatusOptions,
  colors: Colors,
  write: (line: string) => void,
): Promise<number> {
  if (options.redis !== undefined && options.prometheus !== undefined) {
    throw usageError('Pass either --redis or --prometheus, not both');
  }
  const redisUrl =
    options.prometheus === undefined ? (options.redis ?? process.env.TOLLGATE_REDIS_URL) : undefined;
  if (options.prometheus === undefined && !redisUrl) {
    throw usageError(
      'No budget source: pass --redis URL (or set TOLLGATE_REDIS_URL) for the Redis ledger, or --prometheus URL',
    );
  }
  const intervalSeconds = watchInterval(options.watch);
  if (intervalSeconds !== undefined && options.json)
    throw usageError('--watch and --json do not go together');

  let budgets: readonly BudgetConfig[] | undefined;
  let leaseExpiry: 'charge-reserved' | 'release' | undefined;
  if (options.config !== undefined) {
    const loaded = await loadConfig(options.config);
    await loaded.guard.close();
    budgets = loaded.guardConfig.budgets ?? [];
    leaseExpiry = loaded.guardConfig.leaseExpiry;
  }
  const source = redisUrl
    ? `Redis ${redactUrl(redisUrl)} (${options.keyPrefix ? `prefix ${options.keyPrefix}` : 'default prefix'})`
    : `Prometheus ${options.prometheus}`;

  const read = async (): Promise<{ nowMs: number; rows: BudgetRow[] }> => {
    const { nowMs, readings } = redisUrl
      ? await readRedisBudgets({ url: redisUrl, keyPrefix: options.keyPrefix, leaseExpiry, budgets })
      : await readPrometheusBudgets(options.prometheus!, budgets);
    const all: BudgetReading[] = [...readings, ...(budgets ? unusedBudgets(budgets, readings, nowMs) : [])];
    return { nowMs, rows: all.map((reading) => toRow(reading, nowMs)).sort(byShareUsed) };
  };

  if (intervalSeconds !== undefined) {
    return watchLoop(intervalSeconds * 1000, async () => {
      const header = `${colors.bold('tollgate status')}  ${source}  ${new Date().toISOString().slice(0, 19)}Z  every ${intervalSeconds}s, Ctrl-C to quit`;
      try {
        const { nowMs, rows } = await read();
        return `${header}\n\n${renderStatus(rows, nowMs, colors)}`;
      } catch (error) {
        return `${header}\n\n${colors.red((error as Error).message)}`;
      }
    });
  }

  const { nowMs, rows } = await read();
  if (options.json) {
    // Unknown figures (no window, no projection) are null, so every row has the same fields.
    const json = { source: redisUrl ? 'redis' : 'prometheus', nowMs, budgets: rows };
    write(JSON.stringify(json, (_key, value) => (value === undefined ? null : value), 2));
  } else {
    write(colors.dim(source));
    write(renderStatus(rows, nowMs, colors));
  }
  return 0;
}

function watchInterval(watch: string | boolean | undefined): number | undefined {
  if (watch === undefined || watch === false) return undefined;
  if (watch === true) return 2;
  const seconds = Number(watch);
  if (!Number.isFinite(seconds) || seconds < 0.2) {
    throw usageError(`--watch takes a refresh interval in seconds, at least 0.2 (got "${watch}")`);
  }
  return seconds;
}
