import type { CacheChoice } from '../scope/scope';
import type { ResponseCacheStore } from './response-cache-store';

/** Which calls one rule caches: every field set must match (exact, case-insensitive; `model` may end in `*`). */
export interface CacheRuleMatch {
  provider?: string;
  model?: string | readonly string[];
  tenant?: string;
  user?: string;
  feature?: string;
}

/** One rule of `cache.rules`: the calls it matches are cached. */
export interface CacheRule {
  /** Named in nothing but your own config; helps you find the rule. */
  id?: string;
  /** @default every call */
  match?: CacheRuleMatch;
  /** How long a reply is served. @default `cache.ttlMillis` */
  ttlMillis?: number;
  /** Cache requests asking for several sampled choices (`n > 1` with temperature above 0). @default false */
  sampledChoices?: boolean;
  /** Cache requests that offer tools, whose replies may ask to run them again. @default false */
  toolCalls?: boolean;
}

/** `createGuard({ cache })`: an exact-match response cache in front of the gate. Nothing is cached unless a rule or the call asks. */
export interface CacheConfig {
  /** Calls to cache. Per call, `withScope({ cache: true })` (or `false`) decides instead. @default [] */
  rules?: readonly CacheRule[];
  /** How long a reply is served when the rule or call sets none. @default 3_600_000 (one hour) */
  ttlMillis?: number;
  /** Scope dimensions the cache is split by: `['tenant']` keeps each tenant's entries its own. @default [] */
  per?: ReadonlyArray<'tenant' | 'user' | 'feature'>;
  /** Where replies live. @default in this process, bounded by `maxEntries` and `maxBytes` */
  store?: ResponseCacheStore;
  /** Most replies the in-process store keeps. @default 1000 */
  maxEntries?: number;
  /** Most bytes the in-process store keeps. @default 64 MiB */
  maxBytes?: number;
  /** A reply larger than this is not stored. @default 4 MiB */
  maxReplyBytes?: number;
}

export interface NormalizedCacheRule {
  provider: string | undefined;
  models: readonly string[] | undefined;
  tenant: string | undefined;
  user: string | undefined;
  feature: string | undefined;
  ttlMillis: number;
  sampledChoices: boolean;
  toolCalls: boolean;
}

export interface NormalizedCacheConfig {
  rules: readonly NormalizedCacheRule[];
  ttlMillis: number;
  per: ReadonlyArray<'tenant' | 'user' | 'feature'>;
  store: ResponseCacheStore | undefined;
  maxEntries: number;
  maxBytes: number;
  maxReplyBytes: number;
}

export type { CacheChoice };
