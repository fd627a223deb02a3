import { TollgateConfigError } from '../errors/config-error';
import {
  expectKnownKeys,
  expectRecord,
  expectStringOrList,
  optionalBoolean,
  optionalNumber,
} from './config-reader';
import type { GuardEstimatorOptions, NormalizedGuardEstimator } from './guard-estimator-options';

/**
 * Validates `estimator`, so a bad option fails at startup rather than on the first call. A
 * guard does not wait for tokenizers by default: a call that finds its tokenizer still
 * building is estimated by the byte bound.
 */
export function normalizeEstimator(value: unknown): NormalizedGuardEstimator {
  if (value === undefined) return { waitForTokenizer: false };
  const options = expectRecord(value, 'estimator');
  expectKnownKeys(options, 'estimator', [
    'exactCountMaxBytes',
    'anthropicSafetyFactor',
    'waitForTokenizer',
    'warmUp',
  ]);
  const maxBytes = options.exactCountMaxBytes;
  // `Infinity` is meaningful here (always count exactly), so this is not `optionalNumber`.
  if (maxBytes !== undefined && (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0)) {
    throw new TollgateConfigError(
      'estimator.exactCountMaxBytes',
      'must be a number of bytes >= 0 (Infinity always counts exactly)',
      maxBytes,
    );
  }
  optionalNumber(options.anthropicSafetyFactor, 'estimator.anthropicSafetyFactor', { min: 1 });
  const waitForTokenizer = optionalBoolean(options.waitForTokenizer, 'estimator.waitForTokenizer') ?? false;
  const warmUp =
    typeof options.warmUp === 'boolean' || options.warmUp === undefined
      ? options.warmUp
      : expectStringOrList(options.warmUp, 'estimator.warmUp');
  return {
    ...(options as GuardEstimatorOptions),
    waitForTokenizer,
    ...(warmUp === undefined ? {} : { warmUp }),
  };
}
