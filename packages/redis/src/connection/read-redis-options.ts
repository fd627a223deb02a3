/**
 * The options of this package, read with core's path-aware readers before any connection
 * is opened: a bad value throws `TollgateConfigError` naming the option.
 */
import {
  expectOneOf,
  expectRecord,
  type LeaseExpiryPolicy,
  optionalNumber,
  optionalString,
  TollgateConfigError,
} from '@tollgate/core';
import type { RedisConnectionOptions } from './redis-connection-options';
import type { RedisStoreEventHook, UnavailablePolicy } from './redis-store-events';

/** A number greater than zero (milliseconds, or a count), or `fallback` when unset. */
export function positiveOption(value: unknown, path: string, fallback: number): number {
  return optionalNumber(value, path, { min: 0, minInclusive: false }) ?? fallback;
}

/** The key prefix: it becomes a hash tag, so braces would break Cluster routing. */
export function readKeyPrefix(options: Pick<RedisConnectionOptions, 'keyPrefix'>): string {
  const prefix = options.keyPrefix ?? 'tollgate';
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new TollgateConfigError('keyPrefix', 'must be a non-empty string without { or }', prefix);
  }
  return prefix;
}

/** Where to connect: `url` a non-empty string, `client` an ioredis client (the connection is opened later). */
export function checkTarget(options: Pick<RedisConnectionOptions, 'url' | 'client'>): void {
  expectRecord(options, 'options');
  optionalString(options.url, 'url');
  if (options.client !== undefined) expectRecord(options.client, 'client');
}

/** `leaseExpiry`, as the guards that share the ledger use it. */
export function readLeaseExpiry(value: unknown): LeaseExpiryPolicy {
  if (value === undefined) return 'charge-reserved';
  return expectOneOf(value, 'leaseExpiry', ['charge-reserved', 'release']);
}

/** The connection options every store of this package shares, with defaults filled in. */
export interface ConnectionSettings {
  keyPrefix: string;
  commandTimeoutMillis: number;
  onUnavailable: UnavailablePolicy;
  onEvent: RedisStoreEventHook | undefined;
}

export function readConnectionOptions(options: RedisConnectionOptions): ConnectionSettings {
  checkTarget(options);
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new TollgateConfigError('onEvent', 'must be a function', options.onEvent);
  }
  return {
    keyPrefix: readKeyPrefix(options),
    commandTimeoutMillis: positiveOption(options.commandTimeoutMillis, 'commandTimeoutMillis', 1000),
    onUnavailable:
      options.onUnavailable === undefined
        ? 'fail-closed'
        : expectOneOf(options.onUnavailable, 'onUnavailable', ['fail-closed', 'fail-open']),
    onEvent: options.onEvent,
  };
}
