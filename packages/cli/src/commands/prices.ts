import type { ModelPrice, ResolvedModelPrice } from '@tollgate/core';
import { CliError } from '../cli-error';
import { loadConfig } from '../config/load-config';
import type { Colors } from '../output/colors';
import { formatInteger } from '../output/format';
import { renderTable } from '../output/table';

export interface PricesOptions {
  config?: string;
  json?: boolean;
}

/** How a requested name found its price. */
type Resolution = 'model id' | 'alias' | 'snapshot or provider prefix';

/**
 * `tollgate prices [model…]`: the price table the gate uses (config overrides applied), or how
 * each named model resolves. Exit 1 when a named model has no price.
 */
export async function pricesCommand(
  models: string[],
  options: PricesOptions,
  colors: Colors,
  write: (line: string) => void,
): Promise<number> {
  const loaded = await loadConfig(options.config);
  try {
    const table = loaded.guard.prices;
    const nowMs = Date.now();
    const names = models.length > 0 ? models : table.models();
    const found = names.map((name) => ({ name, resolved: table.resolve(name) }));
    const missing = found.filter((entry) => entry.resolved === undefined).map((entry) => entry.name);

    if (options.json) {
      write(
        JSON.stringify(
          {
            currency: table.currency,
            unit: 'per 1M tokens',
            checkedAt: table.checkedAt,
            ageDays: table.ageDays(nowMs),
            models: found.map(({ name, resolved }) => ({
              requested: name,
              model: resolved?.model ?? null,
              resolvedBy: resolved ? resolution(resolved) : null,
              price: resolved?.price ?? null,
            })),
          },
          null,
          2,
        ),
      );
    } else {
      write(
        `Prices in ${table.currency} per 1M tokens, checked ${table.checkedAt} (${table.ageDays(nowMs)} days ago)` +
          (options.config ? `, with the overrides of ${options.config}` : ''),
      );
      write(
        colors.dim('Every figure is a copy of a public price list: costs computed from it are estimates.'),
      );
      if (models.length > 0) {
        write('');
        for (const { name, resolved } of found) {
          write(
            resolved
              ? `  ${name} → ${colors.bold(resolved.model)} (${resolution(resolved)})`
              : `  ${name} → ${colors.red('no price')}`,
          );
        }
      }
      const priced = found.filter((entry): entry is { name: string; resolved: ResolvedModelPrice } =>
        Boolean(entry.resolved),
      );
      const unique = [...new Map(priced.map((entry) => [entry.resolved.model, entry.resolved])).values()];
      if (unique.length > 0) {
        const sources: string[] = [];
        const rows = unique.map(({ model, price }) => priceRow(model, price, sources));
        write('');
        write(
          renderTable(
            [
              'model',
              'provider',
              'kind',
              'input',
              'cached in',
              'cache write',
              'output',
              'max out',
              'context',
              'aliases',
              'src',
            ].map((title) => colors.bold(title)),
            rows,
            ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right'],
          ),
        );
        write('');
        for (const [index, source] of sources.entries()) write(`  [${index + 1}] ${source}`);
        if (unique.some(({ price }) => price.longContext?.length)) {
          write(
            '  * long-context tiers: past a number of input tokens the whole request is billed higher (--json lists them)',
          );
        }
      }
    }
    if (missing.length > 0) {
      throw new CliError(
        `No price for ${missing.map((name) => `"${name}"`).join(', ')}: add it under guard.prices.overrides, or set unknownModel: { fallback }`,
      );
    }
    return 0;
  } finally {
    await loaded.guard.close();
  }
}

function resolution(resolved: ResolvedModelPrice): Resolution {
  const asked = resolved.requestedModel.toLowerCase();
  if (asked === resolved.model.toLowerCase()) return 'model id';
  if ((resolved.price.aliases ?? []).some((alias) => alias.toLowerCase() === asked)) return 'alias';
  return 'snapshot or provider prefix';
}

function priceRow(model: string, price: ModelPrice, sources: string[]): string[] {
  const money = (value: number | undefined) => (value === undefined ? '' : `$${value}`);
  let source = '';
  if (price.source) {
    if (!sources.includes(price.source)) sources.push(price.source);
    source = `[${sources.indexOf(price.source) + 1}]`;
  }
  const tiers = price.longContext?.length ? '*' : '';
  return [
    model,
    price.provider ?? '',
    price.kind ?? '',
    money(price.input) + tiers,
    money(price.cachedInput),
    money(price.cacheWrite),
    money(price.output) + tiers,
    price.maxOutputTokens === undefined ? '' : formatInteger(price.maxOutputTokens),
    price.contextWindow === undefined ? '' : formatInteger(price.contextWindow),
    (price.aliases ?? []).join(', '),
    source,
  ];
}
