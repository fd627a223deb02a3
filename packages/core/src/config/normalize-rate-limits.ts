import { TollgateConfigError } from '../errors/config-error';
import type { NormalizedRateLimit } from '../limits/rate-limiter';
import {
  expectArray,
  expectKnownKeys,
  expectOneOf,
  expectRecord,
  expectString,
  expectStringOrList,
  optionalNumber,
} from './config-reader';

/** Validates `rateLimits` and fills in their defaults. */
export function normalizeRateLimits(value: unknown): NormalizedRateLimit[] {
  return expectArray(value, 'rateLimits').map((rule, index) =>
    normalizeRateLimit(rule, `rateLimits[${index}]`),
  );
}

function normalizeRateLimit(value: unknown, field: string): NormalizedRateLimit {
  const rule = expectRecord(value, field);
  expectKnownKeys(rule, field, [
    'provider',
    'model',
    'per',
    'rpm',
    'tpm',
    'maxConcurrent',
    'burstRequests',
    'burstTokens',
    'maxWaitMillis',
  ]);
  const provider = expectString(rule.provider, `${field}.provider`).toLowerCase();
  const models = expectStringOrList(rule.model, `${field}.model`)?.map((model) => model.toLowerCase());
  const per = expectArray(rule.per, `${field}.per`).map((dimension, index) =>
    expectOneOf(dimension, `${field}.per[${index}]`, ['tenant']),
  );
  const positiveInteger = { integer: true, min: 1 };
  const rpm = optionalNumber(rule.rpm, `${field}.rpm`, positiveInteger);
  const tpm = optionalNumber(rule.tpm, `${field}.tpm`, positiveInteger);
  const maxConcurrent = optionalNumber(rule.maxConcurrent, `${field}.maxConcurrent`, positiveInteger);
  if (rpm === undefined && tpm === undefined && maxConcurrent === undefined) {
    throw new TollgateConfigError(field, 'must set at least one of rpm, tpm, maxConcurrent', value);
  }
  const burstRequests = optionalNumber(rule.burstRequests, `${field}.burstRequests`, positiveInteger);
  if (burstRequests !== undefined && rpm === undefined)
    throw new TollgateConfigError(`${field}.burstRequests`, 'needs rpm', burstRequests);
  const burstTokens = optionalNumber(rule.burstTokens, `${field}.burstTokens`, positiveInteger);
  if (burstTokens !== undefined && tpm === undefined)
    throw new TollgateConfigError(`${field}.burstTokens`, 'needs tpm', burstTokens);
  const normalized: NormalizedRateLimit = {
    provider,
    models,
    perTenant: per.includes('tenant'),
    maxWaitMillis: optionalNumber(rule.maxWaitMillis, `${field}.maxWaitMillis`, { min: 0 }) ?? 10_000,
  };
  if (rpm !== undefined) normalized.rpm = rpm;
  if (tpm !== undefined) normalized.tpm = tpm;
  if (maxConcurrent !== undefined) normalized.maxConcurrent = maxConcurrent;
  if (rpm !== undefined) normalized.burstRequests = burstRequests ?? rpm;
  if (tpm !== undefined) normalized.burstTokens = burstTokens ?? tpm;
  return normalized;
}
