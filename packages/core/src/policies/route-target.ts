import type { PriceTable } from '../pricing/price-table';
import { providerNames } from '../providers/provider-profiles';

/** A model a routing rule names, with its provider when the rule names one (`anthropic:claude-haiku-4-5`). */
export interface RouteTarget {
  /** Undefined: the provider of the call the rule applies to. */
  provider: string | undefined;
  model: string;
}

/**
 * Reads `provider:model` ids in routing rules. The part before the first `:` is a provider
 * only when Tollgate knows it (a provider profile, a provider the price table bills models
 * for, or a server named in the guard's `providers`), so model names that contain a colon
 * (`llama3:8b`, Bedrock's `…-v1:0`) stay whole.
 */
export class RouteIds {
  readonly providers: ReadonlySet<string>;

  constructor(prices: PriceTable, configuredProviders: readonly string[] = []) {
    const names = new Set([...providerNames(), ...configuredProviders.map((name) => name.toLowerCase())]);
    for (const model of prices.models()) {
      const provider = prices.resolve(model)?.price.provider;
      if (provider !== undefined) names.add(provider.toLowerCase());
    }
    this.providers = names;
  }

  parse(id: string): RouteTarget {
    const colon = id.indexOf(':');
    if (colon > 0) {
      const provider = id.slice(0, colon).trim().toLowerCase();
      if (this.providers.has(provider)) return { provider, model: id.slice(colon + 1).trim() };
    }
    return { provider: undefined, model: id.trim() };
  }
}
