/** How urgent a call is. Interactive calls are admitted before background ones when a limiter queues. */
export type CallPriority = 'interactive' | 'background';

/** Who a call is made for, set through `withScope()` or per-call options. */
export interface CallScope {
  tenant?: string;
  user?: string;
  feature?: string;
  /** @default 'interactive' */
  priority?: CallPriority;
  /**
   * Whether calls here may be answered from the response cache, overriding `cache.rules`:
   * `true` caches with the guard's defaults, `false` never caches, an object sets the TTL and
   * what else may be cached. @default the guard's `cache.rules` decide
   */
  cache?: CacheChoice;
}

/** A call's own say over the response cache (see `CallScope.cache`). */
export type CacheChoice =
  | boolean
  | {
      ttlMillis?: number;
      /** Cache requests asking for several sampled choices (`n > 1` with temperature above 0). @default false */
      sampledChoices?: boolean;
      /** Cache requests that offer tools. @default false */
      toolCalls?: boolean;
    };

/** Dimensions a budget or limiter can be split by (`per: ['tenant']` = one instance per tenant). */
export type ScopeDimension = 'tenant' | 'user' | 'feature' | 'model' | 'provider';

/** The values of the dimensions that picked one budget or limiter instance. */
export type ScopeValues = Partial<Record<ScopeDimension, string>>;

export const SCOPE_DIMENSIONS: readonly ScopeDimension[] = ['tenant', 'user', 'feature', 'model', 'provider'];
