import { TollgateConfigError } from '../errors/config-error';
import { expectKnownKeys, expectRecord, optionalNumber } from './config-reader';
import type { FallbackPrice } from './guard-config';

/** Validates `unknownModel`: refuse unpriced calls, or charge them fallback prices. */
export function normalizeUnknownModel(value: unknown): 'reject' | { fallback: FallbackPrice } {
  if (value === undefined || value === 'reject') return 'reject';
  const policy = expectRecord(value, 'unknownModel');
  expectKnownKeys(policy, 'unknownModel', ['fallback']);
  const fallback = expectRecord(policy.fallback, 'unknownModel.fallback');
  expectKnownKeys(fallback, 'unknownModel.fallback', ['input', 'output', 'maxOutputTokens']);
  const input = optionalNumber(fallback.input, 'unknownModel.fallback.input', { min: 0 });
  const output = optionalNumber(fallback.output, 'unknownModel.fallback.output', { min: 0 });
  const maxOutputTokens = optionalNumber(fallback.maxOutputTokens, 'unknownModel.fallback.maxOutputTokens', {
    integer: true,
    min: 1,
  });
  if (input === undefined || output === undefined) {
    throw new TollgateConfigError(
      'unknownModel.fallback',
      'needs both input and output prices (per 1M tokens)',
      value,
    );
  }
  return { fallback: maxOutputTokens === undefined ? { input, output } : { input, output, maxOutputTokens } };
}
