import { TollgateConfigError } from '../errors/config-error';
import type { LongContextTier, ModelKind, ModelPrice } from './model-price';

/**
 * Reads price data (`prices.json`, a prices file, `prices.overrides`) the way the config
 * reader (`config/config-reader.ts`) reads options: every problem is a `TollgateConfigError`
 * naming its exact path, e.g. `prices.overrides["gpt-4o"].input`, with the reader's wording.
 * The readers below are local because config/ depends on pricing/ (it loads the price table):
 * importing config-reader here would make the two folders import each other.
 */

export const SUPPORTED_CURRENCY = 'USD';
export const SUPPORTED_UNIT = 'per 1M tokens';

const PRICE_FIELDS = [
  'input',
  'output',
  'cachedInput',
  'cacheWrite',
  'reasoningOutput',
  'perRequest',
] as const;
const MODEL_FIELDS: readonly string[] = [
  ...PRICE_FIELDS,
  'provider',
  'kind',
  'source',
  'longContext',
  'maxOutputTokens',
  'contextWindow',
  'aliases',
];
const TIER_FIELDS: readonly string[] = ['aboveInputTokens', 'input', 'output', 'cachedInput', 'cacheWrite'];
const TOP_LEVEL_FIELDS: readonly string[] = ['currency', 'checkedAt', 'unit', 'models'];
const KINDS: readonly ModelKind[] = ['chat', 'reasoning', 'embedding', 'completion'];

/** A price table's models by lower-case name, and its aliases by lower-case name. */
export interface IndexedModels {
  readonly models: ReadonlyMap<string, { readonly key: string; readonly price: ModelPrice }>;
  readonly aliases: ReadonlyMap<string, string>;
}

/** The checked top level of a price table. */
export interface PriceTableHeader {
  readonly currency: string;
  readonly checkedAt: string;
  readonly checkedAtMs: number;
  readonly models: Readonly<Record<string, unknown>>;
}

/**
 * The path of one model under a models map, e.g. `prices.models["gpt-4o"]`.
 *
 * @param modelsPath - Path of the map.
 * @param key - The model key as written.
 */
export function modelPath(modelsPath: string, key: string): string {
  return `${modelsPath}[${JSON.stringify(key)}]`;
}

/**
 * Checks everything in a price table but its models.
 *
 * @param data - The table, e.g. parsed from `prices.json`.
 * @param path - Where the table sits, e.g. `prices`.
 * @throws {TollgateConfigError} Naming the field.
 */
export function readPriceTableHeader(data: unknown, path: string): PriceTableHeader {
  const table = expectRecord(data, path);
  rejectUnknownFields(table, TOP_LEVEL_FIELDS, path);
  if (table.currency !== SUPPORTED_CURRENCY) {
    throw new TollgateConfigError(
      `${path}.currency`,
      `must be "${SUPPORTED_CURRENCY}" (budgets are kept in USD)`,
      table.currency,
    );
  }
  if (table.unit !== SUPPORTED_UNIT)
    throw new TollgateConfigError(`${path}.unit`, `must be "${SUPPORTED_UNIT}"`, table.unit);
  const checkedAt = table.checkedAt;
  const checkedAtMs = parseDay(checkedAt, `${path}.checkedAt`);
  const models = expectRecord(table.models, `${path}.models`);
  return { currency: SUPPORTED_CURRENCY, checkedAt: checkedAt as string, checkedAtMs, models };
}

/**
 * Checks every model of a models map and indexes names and aliases, case-insensitively.
 *
 * @param models - Prices keyed by model id. Keys starting with `_` are comments.
 * @param modelsPath - Where the map sits, e.g. `prices.models`.
 * @throws {TollgateConfigError} Naming the model and field, also when two models claim one name.
 */
export function indexModels(models: Readonly<Record<string, unknown>>, modelsPath: string): IndexedModels {
  const byName = new Map<string, { key: string; price: ModelPrice }>();
  const aliases = new Map<string, string>();
  for (const [key, raw] of Object.entries(models)) {
    if (key.startsWith('_')) continue; // room for comments in hand-edited files
    const where = modelPath(modelsPath, key);
    const name = normaliseName(key, where);
    const price = readModelPrice(raw, where, false) as ModelPrice;
    const clash = byName.get(name)?.key ?? aliases.get(name);
    if (clash !== undefined)
      throw new TollgateConfigError(where, `clashes with model "${clash}" (names are case-insensitive)`, key);
    byName.set(name, { key, price });
  }
  for (const { key, price } of byName.values()) {
    (price.aliases ?? []).forEach((alias, index) => {
      const where = `${modelPath(modelsPath, key)}.aliases[${index}]`;
      const name = normaliseName(alias, where);
      const clash = byName.get(name)?.key ?? aliases.get(name);
      if (clash !== undefined)
        throw new TollgateConfigError(where, `is already claimed by model "${clash}"`, alias);
      aliases.set(name, key);
    });
  }
  return { models: byName, aliases };
}

/**
 * Checks one model's prices.
 *
 * @param raw - The entry as written.
 * @param where - Its path, e.g. `prices.overrides["gpt-4o"]`.
 * @param partial - An override of a known model: `input` and `output` may be left out.
 * @returns The entry, frozen, with only the fields it sets.
 * @throws {TollgateConfigError} Naming the field.
 */
export function readModelPrice(raw: unknown, where: string, partial: boolean): Partial<ModelPrice> {
  const entry = expectRecord(raw, where);
  rejectUnknownFields(entry, MODEL_FIELDS, where);
  const out: Record<string, unknown> = {};
  for (const field of PRICE_FIELDS) {
    const value = entry[field];
    if (value === undefined) {
      if (!partial && (field === 'input' || field === 'output'))
        throw new TollgateConfigError(`${where}.${field}`, 'is required', value);
      continue;
    }
    out[field] = readPrice(value, `${where}.${field}`);
  }
  if (entry.provider !== undefined) out.provider = expectString(entry.provider, `${where}.provider`);
  if (entry.source !== undefined) {
    const source = expectString(entry.source, `${where}.source`);
    if (!/^https?:\/\//.test(source))
      throw new TollgateConfigError(`${where}.source`, 'must be an http(s) URL', source);
    out.source = source;
  }
  if (entry.kind !== undefined) out.kind = expectOneOf(entry.kind, `${where}.kind`, KINDS);
  if (entry.maxOutputTokens !== undefined)
    out.maxOutputTokens = readTokenCount(entry.maxOutputTokens, `${where}.maxOutputTokens`, 0);
  if (entry.contextWindow !== undefined)
    out.contextWindow = readTokenCount(entry.contextWindow, `${where}.contextWindow`, 1);
  if (entry.aliases !== undefined) {
    const aliases = expectArray(entry.aliases, `${where}.aliases`);
    out.aliases = Object.freeze(
      aliases.map((alias, index) => expectString(alias, `${where}.aliases[${index}]`)),
    );
  }
  if (entry.longContext !== undefined) out.longContext = readTiers(entry.longContext, `${where}.longContext`);
  return Object.freeze(out) as Partial<ModelPrice>;
}

function readTiers(raw: unknown, path: string): readonly LongContextTier[] {
  const list = expectArray(raw, path);
  let previous = -1;
  const tiers = list.map((value, index) => {
    const where = `${path}[${index}]`;
    const tier = expectRecord(value, where);
    rejectUnknownFields(tier, TIER_FIELDS, where);
    const above = readTokenCount(tier.aboveInputTokens, `${where}.aboveInputTokens`, 1);
    if (above <= previous) {
      throw new TollgateConfigError(
        `${where}.aboveInputTokens`,
        `must be greater than the previous tier's (${previous}); list tiers in ascending order`,
        above,
      );
    }
    previous = above;
    const out: Record<string, number> = { aboveInputTokens: above };
    for (const name of ['input', 'output'] as const) {
      if (tier[name] === undefined)
        throw new TollgateConfigError(`${where}.${name}`, 'is required', undefined);
      out[name] = readPrice(tier[name], `${where}.${name}`);
    }
    for (const name of ['cachedInput', 'cacheWrite'] as const) {
      if (tier[name] !== undefined) out[name] = readPrice(tier[name], `${where}.${name}`);
    }
    return Object.freeze(out) as unknown as LongContextTier;
  });
  return Object.freeze(tiers);
}

/**
 * The value when it is an object, for price data and overrides.
 *
 * @throws {TollgateConfigError} Naming `path`.
 */
export function expectRecord(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TollgateConfigError(path, 'must be an object', value);
  return value as Record<string, unknown>;
}

function expectArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new TollgateConfigError(path, 'must be an array', value);
  return value;
}

function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TollgateConfigError(path, 'must be a non-empty string', value);
  return value;
}

function expectOneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T))
    throw new TollgateConfigError(
      path,
      `must be one of ${allowed.map((item) => `'${item}'`).join(', ')}`,
      value,
    );
  return value as T;
}

function readFiniteNumber(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TollgateConfigError(path, 'must be a finite number', value);
  if (value < min) throw new TollgateConfigError(path, `must be at least ${min}`, value);
  return value;
}

function readPrice(value: unknown, path: string): number {
  return readFiniteNumber(value, path, 0);
}

function readTokenCount(value: unknown, path: string, min: number): number {
  if (value === undefined) throw new TollgateConfigError(path, 'is required', value);
  if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value))
    throw new TollgateConfigError(path, 'must be a whole number', value);
  const count = readFiniteNumber(value, path, min);
  if (count > Number.MAX_SAFE_INTEGER)
    throw new TollgateConfigError(path, `must be at most ${Number.MAX_SAFE_INTEGER}`, value);
  return count;
}

function normaliseName(name: string, where: string): string {
  const normalised = name.trim().toLowerCase();
  if (normalised === '') throw new TollgateConfigError(where, 'must not be an empty model name', name);
  return normalised;
}

function parseDay(value: unknown, path: string): number {
  const match = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches days that do not exist.
  if (!match || new Date(ms).toISOString().slice(0, 10) !== value)
    throw new TollgateConfigError(path, 'must be a real date as YYYY-MM-DD', value);
  return ms;
}

function rejectUnknownFields(raw: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const field of Object.keys(raw)) {
    // A typo such as `cachedinput` would otherwise be ignored and the default price used silently.
    if (!known.includes(field) && !field.startsWith('_')) {
      throw new TollgateConfigError(
        `${where}.${field}`,
        `is not a known field (expected one of: ${known.join(', ')})`,
        raw[field],
      );
    }
  }
}
