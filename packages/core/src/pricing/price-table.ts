import { TollgateConfigError } from '../errors/config-error';
import { modelPrefixes } from '../providers/provider-profiles';
import type { ModelPrice, ModelPriceOverride, PriceTableData, ResolvedModelPrice } from './model-price';
import {
  expectRecord,
  indexModels,
  modelPath,
  readModelPrice,
  readPriceTableHeader,
  SUPPORTED_UNIT,
} from './price-data';
import bundledJson from './prices.json' with { type: 'json' };

const MS_PER_DAY = 86_400_000;
/** Resolution runs on every call; the cap keeps a stream of made-up model names from growing memory. */
const RESOLVE_CACHE_LIMIT = 1_000;

/** Router prefixes (`openai/`) and the provider each names; only these are stripped, so `acme/gpt-4o` stays unknown. */
const PROVIDER_PREFIXES = modelPrefixes();
/** Snapshot suffixes providers append to a model id, most specific first. */
const SNAPSHOT_SUFFIXES = [
  /-\d{4}-\d{2}-\d{2}$/, // -2024-08-06
  /-\d{8}$/, // -20250929
  /-(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/, // -0613: only a plausible MMDD, so `-2048`-style names survive
  /-latest$/,
];

let bundledTable: PriceTable | undefined;

/**
 * A validated, immutable table of model prices with name resolution.
 *
 * @example
 * ```ts
 * const table = PriceTable.bundled().withOverrides({ 'gpt-4o': { input: 2 } });
 * const resolved = table.resolve('gpt-4o-2024-08-06'); // { model: 'gpt-4o', ... }
 * ```
 */
export class PriceTable {
  readonly #currency: string;
  readonly #checkedAt: string;
  readonly #checkedAtMs: number;
  readonly #models: ReadonlyMap<string, { readonly key: string; readonly price: ModelPrice }>;
  readonly #aliases: ReadonlyMap<string, string>;
  readonly #resolved = new Map<string, ResolvedModelPrice | undefined>();

  /**
   * Validates `data` and builds a table from it.
   *
   * @param data - A table in the `prices.json` shape, e.g. parsed from a file.
   * @param path - Where `data` sits, for error messages. @default 'prices'
   * @throws {TollgateConfigError} Naming the exact path (e.g. `prices.models["gpt-4o"].input`) when
   *   a price is negative or not a finite number, `input` or `output` is missing, `checkedAt` is not
   *   a real `YYYY-MM-DD` date, long-context tiers are not in ascending order, or two models claim
   *   the same name or alias.
   */
  constructor(data: PriceTableData, path = 'prices') {
    const header = readPriceTableHeader(data, path);
    const { models, aliases } = indexModels(header.models, `${path}.models`);
    this.#currency = header.currency;
    this.#checkedAt = header.checkedAt;
    this.#checkedAtMs = header.checkedAtMs;
    this.#models = models;
    this.#aliases = aliases;
  }

  /**
   * The table shipped with the package (`prices.json`), validated once and then shared.
   *
   * @returns The same instance on every call.
   */
  static bundled(): PriceTable {
    // The JSON is typed loosely by the compiler; the constructor checks every field at runtime.
    bundledTable ??= new PriceTable(bundledJson as unknown as PriceTableData);
    return bundledTable;
  }

  /** The currency every price is in (always `'USD'`). */
  get currency(): string {
    return this.#currency;
  }

  /** The day the figures were last checked against their sources, as `YYYY-MM-DD`. */
  get checkedAt(): string {
    return this.#checkedAt;
  }

  /**
   * How many whole days have passed since `checkedAt` (midnight UTC).
   *
   * @param nowMs - The current time in epoch milliseconds, e.g. `Date.now()`.
   * @returns Whole days, never negative: a `checkedAt` in the future counts as 0.
   */
  ageDays(nowMs: number): number {
    if (!Number.isFinite(nowMs)) {
      throw new TypeError(
        `ageDays: nowMs must be a finite number of epoch milliseconds, got ${typeof nowMs === 'number' ? nowMs : typeof nowMs}`,
      );
    }
    return Math.max(0, Math.floor((nowMs - this.#checkedAtMs) / MS_PER_DAY));
  }

  /** The canonical keys of every model in the table, in file order. */
  models(): string[] {
    return [...this.#models.values()].map((entry) => entry.key);
  }

  /**
   * Finds the price for a model name as a caller or provider wrote it.
   *
   * Tries, case-insensitively: the exact key, an explicit alias, the name with a snapshot
   * suffix (`-2024-08-06`, `-20250929`, `-0613`, `-latest`) removed, then an alias of that.
   * A known provider's router prefix (`openai/`, `anthropic/`: `modelPrefixes` of its provider
   * profile) is removed first, and the match must belong to that provider. Results, misses included, are memoised.
   *
   * @param model - The model name from the request or the response.
   * @returns The resolved price, or `undefined` when the table has no price for the model.
   */
  resolve(model: string): ResolvedModelPrice | undefined {
    // The name comes from an untyped request body; a missing one is unknown, not a crash.
    if (typeof model !== 'string') return undefined;
    if (this.#resolved.has(model)) return this.#resolved.get(model);
    const found = this.#lookup(model);
    const result = found && Object.freeze({ model: found.key, requestedModel: model, price: found.price });
    if (this.#resolved.size >= RESOLVE_CACHE_LIMIT) {
      // Maps iterate in insertion order, so this drops the oldest entry.
      const oldest = this.#resolved.keys().next().value;
      if (oldest !== undefined) this.#resolved.delete(oldest);
    }
    this.#resolved.set(model, result);
    return result;
  }

  /**
   * Returns a new table with entries merged over this one; this table is unchanged.
   *
   * A key naming a known model (case-insensitive) replaces only the fields given; arrays such as
   * `aliases` and `longContext` are replaced whole. Any other key adds a model and needs at
   * least `input` and `output`. Keys starting with `_` are ignored.
   *
   * @param overrides - Prices keyed by model id, as in `prices.json`'s `models`.
   * @returns A new, validated table.
   * @param path - Where `overrides` sits, for error messages. @default 'prices.overrides'
   * @throws {TollgateConfigError} Naming the exact path (e.g. `prices.overrides["gpt-4o"].input`) when an override is invalid.
   */
  withOverrides(
    overrides: Readonly<Record<string, ModelPriceOverride>>,
    path = 'prices.overrides',
  ): PriceTable {
    const entries = expectRecord(overrides, path);
    const merged: Record<string, ModelPrice> = {};
    for (const { key, price } of this.#models.values()) merged[key] = price;

    for (const [key, raw] of Object.entries(entries)) {
      if (key.startsWith('_')) continue;
      const where = modelPath(path, key);
      const patch = readModelPrice(raw, where, true);
      const existing = this.#models.get(key.trim().toLowerCase());
      if (existing) {
        merged[existing.key] = { ...existing.price, ...patch };
        continue;
      }
      if (patch.input === undefined || patch.output === undefined) {
        const missing = patch.input === undefined ? 'input' : 'output';
        const resolved = this.resolve(key);
        const hint = resolved
          ? ` "${key}" is not a model key but resolves to "${resolved.model}"; override "${resolved.model}" to change its price, or give input and output to price "${key}" separately`
          : ' A new model needs at least "input" and "output"';
        throw new TollgateConfigError(`${where}.${missing}`, `is required.${hint}`, undefined);
      }
      merged[key] = patch as ModelPrice;
    }
    // Cross-model problems (an alias clash, an empty name) only show once merged: report them
    // at the override's path, before the table is built.
    indexModels(merged, path);
    return new PriceTable({
      currency: this.#currency,
      checkedAt: this.#checkedAt,
      unit: SUPPORTED_UNIT,
      models: merged,
    });
  }

  #lookup(requested: string): { key: string; price: ModelPrice } | undefined {
    const name = requested.trim().toLowerCase();
    // A key may itself contain a slash (a user-added `acme/model`), so try the full name first.
    const direct = this.#lookupName(name);
    if (direct) return direct;
    for (const [prefix, provider] of PROVIDER_PREFIXES) {
      if (name.length <= prefix.length || !name.startsWith(prefix)) continue;
      const found = this.#lookupName(name.slice(prefix.length));
      // `anthropic/gpt-4o` is a mistake, not gpt-4o: a provider named in the prefix must match.
      if (found && found.price.provider !== undefined && found.price.provider !== provider) return undefined;
      return found;
    }
    return undefined;
  }

  #lookupName(name: string): { key: string; price: ModelPrice } | undefined {
    const exact = this.#byNameOrAlias(name);
    if (exact) return exact;
    for (const suffix of SNAPSHOT_SUFFIXES) {
      if (!suffix.test(name)) continue;
      return this.#byNameOrAlias(name.replace(suffix, ''));
    }
    return undefined;
  }

  #byNameOrAlias(name: string): { key: string; price: ModelPrice } | undefined {
    const model = this.#models.get(name);
    if (model) return model;
    const aliasOf = this.#aliases.get(name);
    return aliasOf === undefined ? undefined : this.#models.get(aliasOf.toLowerCase());
  }
}
