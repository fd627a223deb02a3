import { readFileSync } from 'node:fs';
import { TollgateConfigError } from '../errors/config-error';
import { PriceTable } from '../pricing/price-table';
import { expectKnownKeys, expectRecord, expectString } from './config-reader';

/** Where prices come from besides the bundled table. */
export interface PriceSources {
  overrides: Record<string, unknown> | undefined;
  /** `prices.file`, or `TOLLGATE_PRICES_FILE` when that is not set. */
  file: string | undefined;
}

/** Validates the shape of `prices`; `loadPrices` reads what it names. */
export function normalizePriceSources(value: unknown, env: NodeJS.ProcessEnv): PriceSources {
  let overrides: Record<string, unknown> | undefined;
  let file: string | undefined;
  if (value !== undefined) {
    const prices = expectRecord(value, 'prices');
    expectKnownKeys(prices, 'prices', ['overrides', 'file']);
    if (prices.overrides !== undefined) overrides = expectRecord(prices.overrides, 'prices.overrides');
    if (prices.file !== undefined) file = expectString(prices.file, 'prices.file');
  }
  file ??= env.TOLLGATE_PRICES_FILE || undefined;
  return { overrides, file };
}

/** The price table in use: the bundled one, then the file's models, then `prices.overrides`. */
export function loadPrices({ overrides, file }: PriceSources): PriceTable {
  let table = PriceTable.bundled();
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new TollgateConfigError(
        'prices.file',
        `could not be read as JSON (${(error as Error).message})`,
        file,
      );
    }
    const models = (parsed as { models?: unknown })?.models ?? parsed;
    table = withOverridesAt(table, models, 'prices.file');
  }
  if (overrides) table = withOverridesAt(table, overrides, 'prices.overrides');
  return table;
}

function withOverridesAt(table: PriceTable, overrides: unknown, field: string): PriceTable {
  try {
    return table.withOverrides(overrides as Parameters<PriceTable['withOverrides']>[0]);
  } catch (error) {
    if (field === 'prices.overrides') locateBadOverride(table, overrides as Record<string, unknown>);
    throw new TollgateConfigError(field, (error as Error).message, overrides);
  }
}

/**
 * Names the override the table refuses on its own by its path (`prices.overrides.<model>`).
 * Only called once the whole set was refused, so a valid set is never judged entry by entry;
 * a problem only the set shows (an alias clash between two entries) stays at `prices.overrides`.
 */
function locateBadOverride(table: PriceTable, overrides: Record<string, unknown>): void {
  for (const [model, override] of Object.entries(overrides)) {
    try {
      table.withOverrides({ [model]: override } as Parameters<PriceTable['withOverrides']>[0]);
    } catch (error) {
      throw new TollgateConfigError(`prices.overrides.${model}`, (error as Error).message, override);
    }
  }
}
