import { TollgateConfigError } from '../errors/config-error';
import type { NormalizedCircuitRule } from '../policies/circuit-breaker';
import {
  expectArray,
  expectKnownKeys,
  expectRecord,
  expectString,
  expectStringOrList,
  optionalNumber,
} from './config-reader';

/** Validates `circuitBreakers` and fills in their defaults. */
export function normalizeCircuitBreakers(value: unknown): NormalizedCircuitRule[] {
  return expectArray(value, 'circuitBreakers').map((rule, index) =>
    normalizeCircuitBreaker(rule, `circuitBreakers[${index}]`),
  );
}

function normalizeCircuitBreaker(value: unknown, field: string): NormalizedCircuitRule {
  const rule = expectRecord(value, field);
  expectKnownKeys(rule, field, [
    'provider',
    'model',
    'windowMillis',
    'minCalls',
    'errorRateAbove',
    'latencyP95AboveMillis',
    'spendUsdPerMinuteAbove',
    'openMillis',
    'halfOpenProbes',
  ]);
  const normalized: NormalizedCircuitRule = {
    provider: expectString(rule.provider, `${field}.provider`).toLowerCase(),
    models: expectStringOrList(rule.model, `${field}.model`)?.map((model) => model.toLowerCase()),
    windowMillis:
      optionalNumber(rule.windowMillis, `${field}.windowMillis`, { integer: true, min: 1000 }) ?? 60_000,
    minCalls: optionalNumber(rule.minCalls, `${field}.minCalls`, { integer: true, min: 1 }) ?? 10,
    errorRateAbove: optionalNumber(rule.errorRateAbove, `${field}.errorRateAbove`, { min: 0, max: 1 }),
    latencyP95AboveMillis: optionalNumber(rule.latencyP95AboveMillis, `${field}.latencyP95AboveMillis`, {
      min: 0,
      minInclusive: false,
    }),
    spendUsdPerMinuteAbove: optionalNumber(rule.spendUsdPerMinuteAbove, `${field}.spendUsdPerMinuteAbove`, {
      min: 0,
      minInclusive: false,
    }),
    openMillis: optionalNumber(rule.openMillis, `${field}.openMillis`, { integer: true, min: 1 }) ?? 30_000,
    halfOpenProbes:
      optionalNumber(rule.halfOpenProbes, `${field}.halfOpenProbes`, { integer: true, min: 1 }) ?? 1,
  };
  if (
    normalized.errorRateAbove === undefined &&
    normalized.latencyP95AboveMillis === undefined &&
    normalized.spendUsdPerMinuteAbove === undefined
  ) {
    throw new TollgateConfigError(
      field,
      'must set at least one of errorRateAbove, latencyP95AboveMillis, spendUsdPerMinuteAbove',
      value,
    );
  }
  return normalized;
}
