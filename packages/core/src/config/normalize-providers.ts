import { TollgateConfigError } from '../errors/config-error';
import { ProviderPrices } from '../pricing/provider-prices';
import { expectArray, expectKnownKeys, expectRecord, expectString } from './config-reader';
import { type ConfiguredProvider, ConfiguredProviders, normalizeBaseURL } from './configured-providers';

/**
 * `gen_ai.provider.name` values Tollgate's instrumentations give by themselves (the OpenTelemetry
 * GenAI well-known values): a configured server may not take one, or its calls would share that
 * provider's budgets, limits and circuits.
 */
const BUILT_IN_PROVIDERS: readonly string[] = [
  'openai',
  'anthropic',
  'aws.bedrock',
  'azure.ai.inference',
  'azure.ai.openai',
  'cohere',
  'deepseek',
  'gcp.gemini',
  'gcp.gen_ai',
  'gcp.vertex_ai',
  'groq',
  'ibm.watsonx.ai',
  'mistral_ai',
  'perplexity',
  'x_ai',
];

/** Lower case, like the well-known values, so budget and rate-limit matches (compared lower-cased) see it as written. */
const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Validates `providers`: self-hosted OpenAI-compatible servers named by base URL, each with its
 * own prices.
 *
 * @throws {TollgateConfigError} Naming the exact path, e.g. `providers[1].name` for a duplicate,
 *   `providers[0].baseURL` for a URL that is not absolute http(s), `providers[0].prices["llama3"].input`.
 */
export function normalizeProviders(value: unknown): ConfiguredProviders {
  const seenNames = new Map<string, number>();
  const seenURLs = new Map<string, number>();
  const entries = expectArray(value, 'providers').map((raw, index): ConfiguredProvider => {
    const field = `providers[${index}]`;
    const entry = expectRecord(raw, field);
    expectKnownKeys(entry, field, ['name', 'baseURL', 'prices']);

    const name = expectString(entry.name, `${field}.name`);
    if (!PROVIDER_NAME.test(name))
      throw new TollgateConfigError(
        `${field}.name`,
        'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. "vllm")',
        name,
      );
    if (BUILT_IN_PROVIDERS.includes(name))
      throw new TollgateConfigError(
        `${field}.name`,
        `is a built-in provider name; choose another (built in: ${BUILT_IN_PROVIDERS.join(', ')})`,
        name,
      );
    const sameName = seenNames.get(name);
    if (sameName !== undefined)
      throw new TollgateConfigError(`${field}.name`, `is already the name of providers[${sameName}]`, name);
    seenNames.set(name, index);

    const written = expectString(entry.baseURL, `${field}.baseURL`);
    const baseURL = normalizeBaseURL(written);
    if (baseURL === undefined)
      throw new TollgateConfigError(
        `${field}.baseURL`,
        'must be an absolute http(s) URL, e.g. "http://localhost:11434/v1"',
        written,
      );
    if (/[?#]/.test(written) || new URL(written).username !== '')
      throw new TollgateConfigError(
        `${field}.baseURL`,
        'must be a plain base URL, without credentials, query or fragment',
        written,
      );
    const sameURL = seenURLs.get(baseURL);
    if (sameURL !== undefined)
      throw new TollgateConfigError(
        `${field}.baseURL`,
        `is already the base URL of providers[${sameURL}] (URLs are compared without trailing slash and default port)`,
        written,
      );
    seenURLs.set(baseURL, index);

    const prices =
      entry.prices === undefined
        ? undefined
        : new ProviderPrices(expectRecord(entry.prices, `${field}.prices`), `${field}.prices`);
    return Object.freeze({ name, baseURL, prices });
  });
  return new ConfiguredProviders(entries);
}
