import type { PriceLookup, ProviderPrices } from '../pricing/provider-prices';

/** One `providers` entry once validated. */
export interface ConfiguredProvider {
  readonly name: string;
  /** The base URL as `normalizeBaseURL` writes it. */
  readonly baseURL: string;
  /** Undefined when the entry sets no `prices`: the guard's price table applies. */
  readonly prices: ProviderPrices | undefined;
}

/** Clients keep one base URL for their lifetime, so a few entries cover a process. */
const MAX_REMEMBERED = 64;

/**
 * A base URL in the one form two spellings of the same endpoint share: scheme and host lower
 * case, the port always written (80 or 443 when left out), no trailing slash, no query.
 *
 * @returns Undefined when `url` is not an absolute http(s) URL.
 */
export function normalizeBaseURL(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return `${parsed.protocol}//${parsed.hostname}:${port}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * The self-hosted OpenAI-compatible servers of the guard's `providers` option: which one a
 * client's base URL points at, and what each charges.
 */
export class ConfiguredProviders {
  /** Longest base URL first, so a deeper path prefix wins over a shallower one on the same host. */
  readonly #byDepth: readonly ConfiguredProvider[];
  readonly #byName: ReadonlyMap<string, ConfiguredProvider>;
  readonly #remembered = new Map<string, string | undefined>();

  constructor(readonly entries: readonly ConfiguredProvider[]) {
    this.#byDepth = [...entries].sort((a, b) => b.baseURL.length - a.baseURL.length);
    this.#byName = new Map(entries.map((entry) => [entry.name, entry]));
  }

  /**
   * The name of the provider whose base URL `baseURL` equals or sits under (a path prefix
   * ending at a `/`), once both are normalised; undefined when none does.
   */
  nameAt(baseURL: string | undefined): string | undefined {
    if (baseURL === undefined || this.#byDepth.length === 0) return undefined;
    if (this.#remembered.has(baseURL)) return this.#remembered.get(baseURL);
    const normalized = normalizeBaseURL(baseURL);
    const found =
      normalized === undefined
        ? undefined
        : this.#byDepth.find(
            (entry) => normalized === entry.baseURL || normalized.startsWith(`${entry.baseURL}/`),
          )?.name;
    if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
    this.#remembered.set(baseURL, found);
    return found;
  }

  /** The prices of a configured provider's calls; undefined for any other provider, or one without `prices`. */
  pricesOf(provider: string): PriceLookup | undefined {
    return this.#byName.get(provider)?.prices;
  }
}
