import type { ResolvedModelPrice } from './model-price';
import { SUPPORTED_UNIT } from './price-data';
import { PriceTable } from './price-table';

/** The key of a provider's price that applies to every model it has no price for. */
const ANY_MODEL = '*';

/** What the estimate needs of a price list: a model's price, or none. */
export interface PriceLookup {
  resolve(model: string): ResolvedModelPrice | undefined;
}

/**
 * The prices of one configured provider (a self-hosted OpenAI-compatible server), as the user
 * wrote them: per model, and optionally `'*'` for every other model. Only these prices apply to
 * the provider's calls: a self-hosted model that shares a hosted model's name is not billed at
 * the hosted price.
 */
export class ProviderPrices implements PriceLookup {
  readonly #table: PriceTable;
  readonly #anyModel: ResolvedModelPrice | undefined;

  /**
   * @param prices - Prices keyed by model id, each with at least `input` and `output` (USD per 1M tokens, zero allowed).
   * @param path - Where `prices` sits, for error messages, e.g. `providers[0].prices`.
   * @throws {TollgateConfigError} Naming the exact path, e.g. `providers[0].prices["llama3"].input`.
   */
  constructor(prices: Readonly<Record<string, unknown>>, path: string) {
    const bundled = PriceTable.bundled();
    const empty = new PriceTable({
      currency: bundled.currency,
      checkedAt: bundled.checkedAt,
      unit: SUPPORTED_UNIT,
      models: {},
    });
    this.#table = empty.withOverrides(prices as Parameters<PriceTable['withOverrides']>[0], path);
    this.#anyModel = this.#table.resolve(ANY_MODEL);
  }

  /**
   * The price of `model`: its own entry (snapshot suffixes and aliases resolve as in the price
   * table), else the `'*'` entry under the model's own lower-cased name, so budgets, rate limits
   * and circuits still tell the provider's models apart.
   */
  resolve(model: string): ResolvedModelPrice | undefined {
    const own = this.#table.resolve(model);
    if (own !== undefined || this.#anyModel === undefined || typeof model !== 'string') return own;
    return Object.freeze({
      model: model.trim().toLowerCase(),
      requestedModel: model,
      price: this.#anyModel.price,
    });
  }
}
