import type { RateLimitConfig } from './rate-limit-config';

/** A rate limit rule after validation, with every default filled in. */
export interface NormalizedRateLimit extends RateLimitConfig {
  models: readonly string[] | undefined;
  perTenant: boolean;
  maxWaitMillis: number;
}

/** Who a call is for, as far as rules tell calls apart. */
export interface RuleSubject {
  provider: string;
  /** Model as requested. */
  model: string;
  /** The price table's canonical name for the model, when it has one; rules match either name. */
  canonicalModel?: string | undefined;
  tenant?: string | undefined;
}

/**
 * The model under which a rule limits a call, or `undefined` when the rule does not apply:
 * another provider, or a model outside the rule's list (compared by canonical or requested name).
 */
export function matchModel(
  rule: NormalizedRateLimit,
  call: Pick<RuleSubject, 'provider' | 'model' | 'canonicalModel'>,
): string | undefined {
  if (rule.provider !== call.provider) return undefined;
  const canonical = call.canonicalModel ?? call.model;
  if (!rule.models) return canonical;
  const requested = call.model.toLowerCase();
  return rule.models.find((model) => model === canonical || model === requested);
}

/** The key of the buckets a rule keeps for one model (and tenant, with `per: ['tenant']`). */
export function limiterKey(rule: NormalizedRateLimit, model: string, tenant: string | undefined): string {
  const base = `${rule.provider}:${model}`;
  return rule.perTenant ? `${base}:tenant=${tenant ?? '(none)'}` : base;
}
