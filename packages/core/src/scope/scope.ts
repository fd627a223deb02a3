/** How urgent a call is. Interactive calls are admitted before background ones when a limiter queues. */
export type CallPriority = 'interactive' | 'background';

/** Who a call is made for, set through `withScope()` or per-call options. */
export interface CallScope {
  tenant?: string;
  user?: string;
  feature?: string;
  /** @default 'interactive' */
  priority?: CallPriority;
}

/** Dimensions a budget or limiter can be split by (`per: ['tenant']` = one instance per tenant). */
export type ScopeDimension = 'tenant' | 'user' | 'feature' | 'model' | 'provider';

/** The values of the dimensions that picked one budget or limiter instance. */
export type ScopeValues = Partial<Record<ScopeDimension, string>>;

export const SCOPE_DIMENSIONS: readonly ScopeDimension[] = ['tenant', 'user', 'feature', 'model', 'provider'];
