import type { NormalizedCacheConfig, NormalizedCacheRule } from '../cache/cache-config';
import { DEFAULT_CACHE_MAX_BYTES, DEFAULT_CACHE_MAX_ENTRIES } from '../cache/memory-response-cache';
import { TollgateConfigError } from '../errors/config-error';
import {
  expectArray,
  expectKnownKeys,
  expectOneOf,
  expectRecord,
  expectStringOrList,
  optionalBoolean,
  optionalNumber,
  optionalString,
} from './config-reader';

const DEFAULT_TTL_MILLIS = 3_600_000;
const DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024;

/** Validates `cache` and fills in its defaults. Without it nothing is cached unless a call asks (`withScope({ cache })`). */
export function normalizeCache(value: unknown): NormalizedCacheConfig {
  const cache = value === undefined ? {} : expectRecord(value, 'cache');
  expectKnownKeys(cache, 'cache', [
    'rules',
    'ttlMillis',
    'per',
    'store',
    'maxEntries',
    'maxBytes',
    'maxReplyBytes',
  ]);
  const ttlMillis =
    optionalNumber(cache.ttlMillis, 'cache.ttlMillis', { integer: true, min: 1 }) ?? DEFAULT_TTL_MILLIS;
  const rules =
    cache.rules === undefined
      ? []
      : expectArray(cache.rules, 'cache.rules').map((rule, index) =>
          normalizeRule(rule, `cache.rules[${index}]`, ttlMillis),
        );
  const per =
    cache.per === undefined
      ? []
      : expectArray(cache.per, 'cache.per').map((dimension, index) =>
          expectOneOf(dimension, `cache.per[${index}]`, ['tenant', 'user', 'feature'] as const),
        );
  if (cache.store !== undefined) {
    const store = expectRecord(cache.store, 'cache.store');
    for (const method of ['get', 'set'] as const) {
      if (typeof store[method] !== 'function')
        throw new TollgateConfigError(
          `cache.store.${method}`,
          'must be a function (a ResponseCacheStore)',
          store[method],
        );
    }
  }
  return {
    rules,
    ttlMillis,
    per,
    store: cache.store as NormalizedCacheConfig['store'],
    maxEntries:
      optionalNumber(cache.maxEntries, 'cache.maxEntries', { integer: true, min: 1 }) ??
      DEFAULT_CACHE_MAX_ENTRIES,
    maxBytes:
      optionalNumber(cache.maxBytes, 'cache.maxBytes', { integer: true, min: 1 }) ?? DEFAULT_CACHE_MAX_BYTES,
    maxReplyBytes:
      optionalNumber(cache.maxReplyBytes, 'cache.maxReplyBytes', { integer: true, min: 1 }) ??
      DEFAULT_MAX_REPLY_BYTES,
  };
}

function normalizeRule(value: unknown, field: string, defaultTtlMillis: number): NormalizedCacheRule {
  const rule = expectRecord(value, field);
  expectKnownKeys(rule, field, ['id', 'match', 'ttlMillis', 'sampledChoices', 'toolCalls']);
  optionalString(rule.id, `${field}.id`);
  const match = rule.match === undefined ? {} : expectRecord(rule.match, `${field}.match`);
  expectKnownKeys(match, `${field}.match`, ['provider', 'model', 'tenant', 'user', 'feature']);
  return {
    provider: optionalString(match.provider, `${field}.match.provider`)?.toLowerCase(),
    models: expectStringOrList(match.model, `${field}.match.model`)?.map((model) => model.toLowerCase()),
    tenant: optionalString(match.tenant, `${field}.match.tenant`),
    user: optionalString(match.user, `${field}.match.user`),
    feature: optionalString(match.feature, `${field}.match.feature`),
    ttlMillis:
      optionalNumber(rule.ttlMillis, `${field}.ttlMillis`, { integer: true, min: 1 }) ?? defaultTtlMillis,
    sampledChoices: optionalBoolean(rule.sampledChoices, `${field}.sampledChoices`) ?? false,
    toolCalls: optionalBoolean(rule.toolCalls, `${field}.toolCalls`) ?? false,
  };
}
