import { describe, expect, it } from 'vitest';
import { PriceTable } from '../pricing/price-table';
import { MODEL_FAMILIES } from './model-families';
import { modelIdVendorTags, modelPrefixes, providerProfile } from './provider-profiles';

describe('provider profiles', () => {
  it('know every provider the bundled price table bills, with a router prefix for each', () => {
    const table = PriceTable.bundled();
    const providers = new Set(table.models().map((model) => table.resolve(model)?.price.provider));
    providers.delete(undefined);
    expect(providers.size).toBeGreaterThan(0);
    const prefixed = new Set(modelPrefixes().map(([, provider]) => provider));
    for (const provider of providers) {
      expect(providerProfile(provider)).toBeDefined();
      expect(prefixed.has(provider!)).toBe(true);
    }
  });

  it('resolve a router prefix to its own provider only', () => {
    expect(modelPrefixes()).toEqual([
      ['openai/', 'openai'],
      ['anthropic/', 'anthropic'],
      ['google/', 'gcp.gemini'],
      ...['us.', 'us-gov.', 'eu.', 'apac.', 'jp.', 'au.', 'ca.', 'global.'].map(
        (prefix) => [prefix, 'aws.bedrock'] as const,
      ),
    ]);
    const table = PriceTable.bundled();
    expect(table.resolve('openai/gpt-4o')?.model).toBe('gpt-4o');
    expect(table.resolve('azure.ai.openai/gpt-4o')).toBeUndefined();
  });

  it('price Bedrock cross-region inference profiles as their base model, and only Bedrock models so', () => {
    const table = PriceTable.bundled();
    for (const geography of ['us', 'eu', 'apac', 'global']) {
      const resolved = table.resolve(`${geography}.anthropic.claude-sonnet-4-5-20250929-v1:0`);
      expect(resolved?.model).toBe('anthropic.claude-sonnet-4-5-20250929-v1:0');
      expect(resolved?.price.provider).toBe('aws.bedrock');
    }
    expect(table.resolve('us.amazon.nova-lite-v1:0')?.price.input).toBe(0.06);
    // A geography before a model another provider bills is a mistake, not that model.
    expect(table.resolve('us.gpt-4o')).toBeUndefined();
  });

  it('have no profile for unknown or prototype-named providers', () => {
    for (const provider of ['groq', 'constructor', '__proto__', undefined]) {
      expect(providerProfile(provider)).toBeUndefined();
    }
  });

  it('name only model families the family table has', () => {
    const families = new Set(MODEL_FAMILIES.map((family) => family.name));
    for (const provider of ['openai', 'azure.ai.openai', 'anthropic']) {
      const only = providerProfile(provider)?.servesOnlyFamily;
      if (only !== undefined) expect(families.has(only)).toBe(true);
    }
    expect(providerProfile('anthropic')?.servesOnlyFamily).toBe('claude');
    expect(modelIdVendorTags()).toEqual(['anthropic.']);
  });
});
