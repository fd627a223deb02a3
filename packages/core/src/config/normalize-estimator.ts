import { TollgateConfigError } from '../errors/config-error';
import type { TokenEstimatorOptions } from '../tokens/estimate-input-tokens';
import { expectKnownKeys, expectRecord, optionalNumber } from './config-reader';

/** Validates `estimator`, so a bad option fails at startup rather than on the first call. */
export function normalizeEstimator(value: unknown): TokenEstimatorOptions | undefined {
  if (value === undefined) return undefined;
  const options = expectRecord(value, 'estimator');
  expectKnownKeys(options, 'estimator', ['exactCountMaxBytes', 'anthropicSafetyFactor']);
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
  return options as TokenEstimatorOptions;
}
