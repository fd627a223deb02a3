import { describe, expect, it } from 'vitest';
import {
  claudeVersion,
  encodingForModel,
  isClaudeModel,
  modelFamily,
  normalizeModelName,
  usesLateClaudeTokenizer,
} from './encoding-for-model';

describe('encodingForModel', () => {
  it.each([
    'gpt-4o',
    'gpt-4o-2024-08-06',
    'gpt-4o-mini',
    'chatgpt-4o-latest',
    'gpt-4.1',
    'gpt-4.1-nano-2025-04-14',
    'gpt-4.5-preview',
    'gpt-5',
    'gpt-5-mini',
    'gpt-5.4',
    'o1',
    'o1-pro',
    'o3-mini',
    'o4-mini-2025-04-16',
    'ft:gpt-4o-mini-2024-07-18:acme::abc123',
    'openai/gpt-4.1-mini',
  ])('uses o200k_base for %s', (model) => {
    expect(encodingForModel(model)).toBe('o200k_base');
  });

  it.each([
    'gpt-4',
    'gpt-4-0613',
    'gpt-4-32k',
    'gpt-4-turbo',
    'gpt-4-turbo-2024-04-09',
    'gpt-4-1106-preview',
    'gpt-3.5-turbo',
    'gpt-3.5-turbo-instruct',
    'gpt-35-turbo',
    'text-embedding-3-small',
    'text-embedding-3-large',
    'text-embedding-ada-002',
    'davinci-002',
    'babbage-002',
    'GPT-4-Turbo',
  ])('uses cl100k_base for %s', (model) => {
    expect(encodingForModel(model)).toBe('cl100k_base');
  });

  it('uses o200k_base for models it does not know (OpenAI-compatible servers)', () => {
    expect(encodingForModel('my-local-llama')).toBe('o200k_base');
    expect(encodingForModel('')).toBe('o200k_base');
  });

  it('uses cl100k_base as the base of the Claude approximation', () => {
    expect(encodingForModel('claude-sonnet-4-5')).toBe('cl100k_base');
    expect(encodingForModel('anthropic/claude-3.5-sonnet')).toBe('cl100k_base');
  });
});

describe('normalizeModelName', () => {
  it('strips gateway, fine-tune and Bedrock prefixes', () => {
    expect(normalizeModelName('OpenAI/GPT-4o')).toBe('gpt-4o');
    expect(normalizeModelName('ft:gpt-4o-mini:org::id')).toBe('gpt-4o-mini:org::id');
    expect(normalizeModelName('us.anthropic.claude-3-5-sonnet-20241022-v2:0')).toBe(
      'claude-3-5-sonnet-20241022-v2:0',
    );
  });
});

describe('isClaudeModel', () => {
  it('recognises Claude by name or by the anthropic provider', () => {
    expect(isClaudeModel('claude-opus-4-7')).toBe(true);
    expect(isClaudeModel('anthropic.claude-3-haiku-20240307-v1:0')).toBe(true);
    expect(isClaudeModel('some-alias', 'anthropic')).toBe(true);
    expect(isClaudeModel('gpt-4o', 'openai')).toBe(false);
  });
});

describe('claudeVersion', () => {
  it.each([
    ['claude-3-opus-20240229', 3, 0],
    ['claude-3-5-sonnet-20241022', 3, 5],
    ['claude-3.7-sonnet', 3, 7],
    ['claude-sonnet-4-20250514', 4, 0],
    ['claude-opus-4-1-20250805', 4, 1],
    ['claude-sonnet-4-5', 4, 5],
    ['claude-opus-4-7', 4, 7],
    ['claude-opus-5', 5, 0],
    ['claude-haiku-5-5', 5, 5],
    ['anthropic/claude-sonnet-4.6', 4, 6],
  ])('reads %s as %i.%i', (model, major, minor) => {
    expect(claudeVersion(model)).toEqual({ major, minor });
  });

  it('returns undefined for ids without a version', () => {
    expect(claudeVersion('claude-mythos-preview')).toBeUndefined();
  });
});

describe('usesLateClaudeTokenizer', () => {
  it('is false before 4.7 and true from 4.7 on, or when the version is unknown', () => {
    expect(usesLateClaudeTokenizer('claude-3-5-haiku-20241022')).toBe(false);
    expect(usesLateClaudeTokenizer('claude-sonnet-4-6')).toBe(false);
    expect(usesLateClaudeTokenizer('claude-opus-4-7')).toBe(true);
    expect(usesLateClaudeTokenizer('claude-opus-5')).toBe(true);
    expect(usesLateClaudeTokenizer('claude-mythos-preview')).toBe(true);
  });
});

describe('modelFamily', () => {
  it('lets a provider that serves one family decide it, whatever the model id', () => {
    expect(modelFamily('some-alias', 'anthropic')).toMatchObject({ name: 'claude', encoding: 'cl100k_base' });
    expect(modelFamily('some-alias', 'openai').name).toBe('openai-o200k');
    expect(modelFamily('gpt-4-turbo', 'groq')).toMatchObject({ name: 'gpt-4', approximated: false });
  });

  it('reads the family of a Bedrock id from the vendor tag in the provider profiles', () => {
    expect(modelFamily('us.anthropic.claude-3-5-sonnet-20241022-v2:0').name).toBe('claude');
  });
});
