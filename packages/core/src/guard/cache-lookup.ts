import { diag } from '@opentelemetry/api';
import type { CachedReply } from '../cache/cached-reply';
import type { CacheableRequest, CachePlan, ResponseCache } from '../cache/response-cache';
import type { LlmCallDescriptor } from '../call/llm-call';
import { actualCostUsd, estimateCall, usageOrWorstCase } from '../estimate/call-estimate';
import type { CallScope } from '../scope/scope';
import { currentScope, mergeScopes } from '../scope/with-scope';
import { newCallId } from './call-id';
import type { GuardRuntime } from './guard-runtime';
import type { Admission, CacheLookup, CallOptions, Settlement } from './guard-types';

/**
 * Looks a call up in the response cache, before anything of the gate is touched. Undefined at
 * once (no promise, no extra turn for the call) when the cache does not apply to the call; a
 * store that fails answers a miss.
 */
export function lookupCache(
  runtime: GuardRuntime,
  cache: ResponseCache,
  request: CacheableRequest,
  options: CallOptions,
): Promise<CacheLookup> | undefined {
  const ambient = currentScope();
  // The common case, no cache configured and none asked for: nothing to merge or plan.
  if (!cache.hasRules && ambient.cache === undefined && options.scope?.cache === undefined) return undefined;
  const scope = mergeScopes(ambient, options.scope);
  const plan = cache.plan(request, scope);
  return plan ? readStore(runtime, cache, request, plan, scope) : undefined;
}

async function readStore(
  runtime: GuardRuntime,
  cache: ResponseCache,
  request: CacheableRequest,
  plan: CachePlan,
  scope: Readonly<CallScope>,
): Promise<CacheLookup> {
  let reply: CachedReply | undefined;
  try {
    reply = await cache.store.get(plan.key);
  } catch (error) {
    diag.warn('tollgate: the response cache store failed a read; treated as a miss', error);
  }
  return {
    plan,
    reply: reply?.status === 200 ? reply : undefined,
    hitAdmission: () => hitAdmission(runtime, request.call, scope),
    store: (received) => storeReply(cache, plan, received),
  };
}

function storeReply(cache: ResponseCache, plan: CachePlan, reply: CachedReply): void {
  try {
    cache.store.set(plan.key, reply, plan.ttlMillis);
  } catch (error) {
    diag.warn('tollgate: the response cache store failed a write', error);
  }
}

/**
 * The admission of a call answered from the cache: nothing reserved, no limiter passed, nothing
 * to release. Settling it charges nothing and reports what the call would have cost at list
 * price for the usage the replayed reply states — the money the cache saved.
 *
 * @throws {InvalidRequestError} When the body is malformed where the estimate must read it.
 */
function hitAdmission(runtime: GuardRuntime, call: LlmCallDescriptor, scope: Readonly<CallScope>): Admission {
  const estimate = estimateCall(call, runtime.estimateSettings(call.provider));
  return {
    callId: newCallId(),
    provider: call.provider,
    requestedProvider: call.provider,
    model: call.model,
    requestedModel: call.model,
    estimate,
    outputCapToSend: estimate.outputCapToSend,
    scope,
    waitMillis: 0,
    budgets: [],
    budgetIds: [],
    limiterKeys: [],
    minHeadroomRatio: undefined,
    settle: (usage, source = 'provider'): Promise<Settlement> =>
      Promise.resolve({
        usageSource: usage ? source : 'reservation',
        actualCostUsd: 0,
        costDeltaUsd: undefined,
        applied: false,
        minHeadroomRatio: undefined,
        savedCostUsd: usage ? actualCostUsd(usageOrWorstCase(usage, estimate), estimate) : undefined,
      }),
    countOutputTokens: (text) => runtime.countText(call.model, text),
    release: () => Promise.resolve(),
  };
}
