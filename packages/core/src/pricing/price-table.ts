import type { ProviderName } from '../call/llm-call.js';
import bundledJson from './prices.json' with { type: 'json' };

/** What a model is used for; tells the estimator which request shape to expect. */
export type ModelKind = 'chat' | 'reasoning' | 'embedding' | 'completion';

/**
 * A long-context price tier. When a request's input tokens (cache reads and writes included)
 * exceed `aboveInputTokens`, the whole request, output included, is billed at this tier's
 * prices. All prices are in the table's currency per 1M tokens.
 */
export interface LongContextTier {
  /** The tier applies when input tokens are strictly greater than this. */
  readonly aboveInputTokens: number;
  readonly input: number;
  readonly output: number;
  /** Cache-read price in this tier. @default this tier's `input` */
  readonly cachedInput?: number;
  /** Cache-write price in this tier. @default this tier's `input` */
  readonly cacheWrite?: number;
}

/**
 * The price of one model. Prices are in the table's currency (USD) per 1M tokens, except
 * `perRequest`, which is in currency units per request. Every figure is a copy of a public
 * price list: costs computed from it are estimates.
 */
export interface ModelPrice {
  /** The provider that bills this model; checked against a `openai/`-style prefix when resolving. */
  readonly provider?: ProviderName;
  /** What the model is used for. */
  readonly kind?: ModelKind;
  /** The provider's pricing page the figures were copied from. */
  readonly source?: string;
  /** Uncached input tokens. */
  readonly input: number;
  /** Input tokens read from the provider's prompt cache. @default `input` */
  readonly cachedInput?: number;
  /** Input tokens written to the prompt cache (Anthropic's 5-minute write; OpenAI's 30-minute write). @default `input` */
  readonly cacheWrite?: number;
  /** Output tokens, reasoning included unless `reasoningOutput` is set. */
  readonly output: number;
  /** Reasoning output tokens, only where the provider bills them apart from output. @default `output` */
  readonly reasoningOutput?: number;
  /** A flat charge per request, in currency units (not per 1M tokens). @default 0 */
  readonly perRequest?: number;
  /** Long-context tiers, in ascending `aboveInputTokens` order. */
  readonly longContext?: readonly LongContextTier[];
  /** The most output tokens one response can have. */
  readonly maxOutputTokens?: number;
  /** The most tokens (input plus output) one request can hold. */
  readonly contextWindow?: number;
  /** Other names for this model that resolve to it (case-insensitive). */
  readonly aliases?: readonly string[];
}

/** A partial `ModelPrice` merged over a known model, or a full one (with `input` and `output`) for a new model. */
export type ModelPriceOverride = Partial<ModelPrice>;

/** The shape of `prices.json`. */
export interface PriceTableData {
  /** Free text for maintainers; ignored by the code. */
  readonly _maintenance?: string;
  /** The currency every price is in. Only `'USD'` is accepted, because budgets are kept in USD. */
  readonly currency: string;
  /** The day the figures were last checked against their sources, as `YYYY-MM-DD`. */
  readonly checkedAt: string;
  /** The unit of every token price. Only `'per 1M tokens'` is accepted. */
  readonly unit: string;
  /** Prices keyed by canonical model id. */
  readonly models: Readonly<Record<string, ModelPrice>>;
}

/** The result of resolving a requested model name against a price table. */
export interface ResolvedModelPrice {
  /** The canonical key of the price that was found. */
  readonly model: string;
  /** The model name exactly as it was asked for. */
  readonly requestedModel: string;
  readonly price: ModelPrice;
}

const SUPPORTED_CURRENCY = 'USD';
const SUPPORTED_UNIT = 'per 1M tokens';
const MS_PER_DAY = 86_400_000;
/** Resolution runs on every call; the cap keeps a stream of made-up model names from growing memory. */
const RESOLVE_CACHE_LIMIT = 1_000;

const PRICE_FIELDS = [
  'input',
  'output',
  'cachedInput',
  'cacheWrite',
  'reasoningOutput',
  'perRequest',
] as const;
const MODEL_FIELDS = new Set<string>([
  ...PRICE_FIELDS,
  'provider',
  'kind',
  'source',
  'longContext',
  'maxOutputTokens',
  'contextWindow',
  'aliases',
]);
const TIER_FIELDS = new Set<string>(['aboveInputTokens', 'input', 'output', 'cachedInput', 'cacheWrite']);
const TOP_LEVEL_FIELDS = new Set<string>(['currency', 'checkedAt', 'unit', 'models']);
const KINDS = new Set<string>(['chat', 'reasoning', 'embedding', 'completion']);
/** Prefixes routers put before a model id; only these are stripped, so `acme/gpt-4o` stays unknown. */
const PROVIDER_PREFIX = /^(openai|anthropic)\/(.+)$/;
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
   * @throws Error naming the model and field when a price is negative or not a finite number,
   *   `input` or `output` is missing, `checkedAt` is not a real `YYYY-MM-DD` date, long-context
   *   tiers are not in ascending order, or two models claim the same name or alias.
   */
  constructor(data: PriceTableData) {
    if (!isRecord(data)) {
      throw new Error('Invalid price table: expected an object with currency, checkedAt, unit and models');
    }
    rejectUnknownFields(data, TOP_LEVEL_FIELDS, 'Invalid price table');
    if (data.currency !== SUPPORTED_CURRENCY) {
      throw new Error(
        `Invalid price table: field "currency" must be "${SUPPORTED_CURRENCY}" (budgets are kept in USD), got ${describe(data.currency)}`,
      );
    }
    if (data.unit !== SUPPORTED_UNIT) {
      throw new Error(
        `Invalid price table: field "unit" must be "${SUPPORTED_UNIT}", got ${describe(data.unit)}`,
      );
    }
    this.#checkedAtMs = parseDay(data.checkedAt);
    this.#currency = data.currency;
    this.#checkedAt = data.checkedAt;
    if (!isRecord(data.models)) {
      throw new Error('Invalid price table: field "models" must be an object keyed by model id');
    }

    const models = new Map<string, { key: string; price: ModelPrice }>();
    const aliases = new Map<string, string>();
    for (const [key, raw] of Object.entries(data.models)) {
      if (key.startsWith('_')) continue; // room for comments in hand-edited files
      const where = `Invalid price table: model "${key}"`;
      const name = normaliseName(key, where);
      const price = checkModelPrice(raw, where, false) as ModelPrice;
      const clash = models.get(name)?.key ?? aliases.get(name);
      if (clash !== undefined) {
        throw new Error(`${where}: name clashes with model "${clash}" (names are case-insensitive)`);
      }
      models.set(name, { key, price });
    }
    for (const { key, price } of models.values()) {
      for (const alias of price.aliases ?? []) {
        const name = normaliseName(alias, `Invalid price table: model "${key}", field "aliases"`);
        const clash = models.get(name)?.key ?? aliases.get(name);
        if (clash !== undefined) {
          throw new Error(
            `Invalid price table: model "${key}", field "aliases": "${alias}" is already claimed by model "${clash}"`,
          );
        }
        aliases.set(name, key);
      }
    }
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
        `ageDays: nowMs must be a finite number of epoch milliseconds, got ${describe(nowMs)}`,
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
   * A leading `openai/` or `anthropic/` is removed first, and the match must belong to that
   * provider. Results, misses included, are memoised.
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
   * @throws Error naming the model and field when an override is invalid.
   */
  withOverrides(overrides: Readonly<Record<string, ModelPriceOverride>>): PriceTable {
    if (!isRecord(overrides)) {
      throw new Error('Invalid price override: expected an object keyed by model id');
    }
    const merged: Record<string, ModelPrice> = {};
    for (const { key, price } of this.#models.values()) merged[key] = price;

    for (const [key, raw] of Object.entries(overrides)) {
      if (key.startsWith('_')) continue;
      const where = `Invalid price override: model "${key}"`;
      const name = normaliseName(key, where);
      const patch = checkModelPrice(raw, where, true);
      const existing = this.#models.get(name);
      if (existing) {
        merged[existing.key] = { ...existing.price, ...patch };
        continue;
      }
      if (patch.input === undefined || patch.output === undefined) {
        const missing = patch.input === undefined ? 'input' : 'output';
        const resolved = this.resolve(key);
        const hint = resolved
          ? ` "${key}" is not a model key but resolves to "${resolved.model}"; override "${resolved.model}" to change its price, or give input and output to price "${key}" separately.`
          : ' A new model needs at least "input" and "output".';
        throw new Error(`${where}: field "${missing}" is required.${hint}`);
      }
      merged[key] = patch as ModelPrice;
    }

    try {
      return new PriceTable({
        currency: this.#currency,
        checkedAt: this.#checkedAt,
        unit: SUPPORTED_UNIT,
        models: merged,
      });
    } catch (error) {
      // Cross-model problems (an alias clash, say) only show once merged; say they came from an override.
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(message.replace(/^Invalid price table/, 'Invalid price override'), { cause: error });
    }
  }

  #lookup(requested: string): { key: string; price: ModelPrice } | undefined {
    const name = requested.trim().toLowerCase();
    // A key may itself contain a slash (a user-added `acme/model`), so try the full name first.
    const direct = this.#lookupName(name);
    if (direct) return direct;
    const prefixed = PROVIDER_PREFIX.exec(name);
    if (!prefixed) return undefined;
    const [, provider, rest] = prefixed;
    const found = this.#lookupName(rest!);
    // `anthropic/gpt-4o` is a mistake, not gpt-4o: a provider named in the prefix must match.
    if (found && found.price.provider !== undefined && found.price.provider !== provider) return undefined;
    return found;
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

function checkModelPrice(raw: unknown, where: string, partial: boolean): Partial<ModelPrice> {
  if (!isRecord(raw)) throw new Error(`${where}: expected an object of prices, got ${describe(raw)}`);
  rejectUnknownFields(raw, MODEL_FIELDS, where);
  const out: Record<string, unknown> = {};

  for (const field of PRICE_FIELDS) {
    const value = raw[field];
    if (value === undefined) {
      if (!partial && (field === 'input' || field === 'output')) {
        throw new Error(`${where}: field "${field}" is required`);
      }
      continue;
    }
    out[field] = checkPrice(value, where, field);
  }
  if (raw.provider !== undefined) out.provider = checkNonEmptyString(raw.provider, where, 'provider');
  if (raw.source !== undefined) {
    const source = checkNonEmptyString(raw.source, where, 'source');
    if (!/^https?:\/\//.test(source))
      throw new Error(`${where}: field "source" must be an http(s) URL, got "${source}"`);
    out.source = source;
  }
  if (raw.kind !== undefined) {
    if (typeof raw.kind !== 'string' || !KINDS.has(raw.kind)) {
      throw new Error(
        `${where}: field "kind" must be one of ${[...KINDS].join(', ')}, got ${describe(raw.kind)}`,
      );
    }
    out.kind = raw.kind;
  }
  if (raw.maxOutputTokens !== undefined)
    out.maxOutputTokens = checkTokenCount(raw.maxOutputTokens, where, 'maxOutputTokens', 0);
  if (raw.contextWindow !== undefined)
    out.contextWindow = checkTokenCount(raw.contextWindow, where, 'contextWindow', 1);
  if (raw.aliases !== undefined) {
    if (!Array.isArray(raw.aliases)) throw new Error(`${where}: field "aliases" must be an array of strings`);
    out.aliases = Object.freeze(raw.aliases.map((alias) => checkNonEmptyString(alias, where, 'aliases')));
  }
  if (raw.longContext !== undefined) out.longContext = checkTiers(raw.longContext, where);
  return Object.freeze(out) as Partial<ModelPrice>;
}

function checkTiers(raw: unknown, where: string): readonly LongContextTier[] {
  if (!Array.isArray(raw)) throw new Error(`${where}: field "longContext" must be an array of tiers`);
  let previous = -1;
  const tiers = raw.map((tier: unknown, index) => {
    const field = `longContext[${index}]`;
    if (!isRecord(tier))
      throw new Error(`${where}: field "${field}" must be an object, got ${describe(tier)}`);
    rejectUnknownFields(tier, TIER_FIELDS, `${where}, field "${field}"`);
    const above = checkTokenCount(tier.aboveInputTokens, where, `${field}.aboveInputTokens`, 1);
    if (above <= previous) {
      throw new Error(
        `${where}: field "${field}.aboveInputTokens" must be greater than the previous tier's (${previous}); list tiers in ascending order`,
      );
    }
    previous = above;
    const out: Record<string, number> = { aboveInputTokens: above };
    for (const name of ['input', 'output'] as const) {
      if (tier[name] === undefined) throw new Error(`${where}: field "${field}.${name}" is required`);
      out[name] = checkPrice(tier[name], where, `${field}.${name}`);
    }
    for (const name of ['cachedInput', 'cacheWrite'] as const) {
      if (tier[name] !== undefined) out[name] = checkPrice(tier[name], where, `${field}.${name}`);
    }
    return Object.freeze(out) as unknown as LongContextTier;
  });
  return Object.freeze(tiers);
}

function checkPrice(value: unknown, where: string, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${where}: field "${field}" must be a finite number >= 0, got ${describe(value)}`);
  }
  return value;
}

function checkTokenCount(value: unknown, where: string, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${where}: field "${field}" must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

function checkNonEmptyString(value: unknown, where: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${where}: field "${field}" must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function normaliseName(name: string, where: string): string {
  const normalised = name.trim().toLowerCase();
  if (normalised === '') throw new Error(`${where}: model names must not be empty`);
  return normalised;
}

function parseDay(value: unknown): number {
  const match = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches days that do not exist.
  if (!match || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new Error(
      `Invalid price table: field "checkedAt" must be a real date as YYYY-MM-DD, got ${describe(value)}`,
    );
  }
  return ms;
}

function rejectUnknownFields(raw: Record<string, unknown>, known: ReadonlySet<string>, where: string): void {
  for (const field of Object.keys(raw)) {
    // A typo such as `cachedinput` would otherwise be ignored and the default price used silently.
    if (!known.has(field) && !field.startsWith('_')) throw new Error(`${where}: unknown field "${field}"`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
