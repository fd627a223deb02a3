import type { LlmCallDescriptor } from '../call/llm-call';
import { requestShapeOf } from '../request-shapes/request-shape-registry';
import type { CacheChoice, CallScope } from '../scope/scope';
import type { NormalizedCacheConfig, NormalizedCacheRule } from './cache-config';
import { cacheKey } from './cache-key';
import { checkCacheChoice } from './check-cache-choice';
import { MemoryResponseCache } from './memory-response-cache';
import type { ResponseCacheStore } from './response-cache-store';

/** A request the cache may answer: where it goes and what it asks. */
export interface CacheableRequest {
  call: LlmCallDescriptor;
  /** Everything the request sends, when the call's body is only part of it. @default the call's body */
  keyBody?: Readonly<Record<string, unknown>> | undefined;
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
}

/** A call the cache applies to: its key, and how long its reply is served once stored. */
export interface CachePlan {
  key: string;
  ttlMillis: number;
  /** A reply larger than this is not stored. */
  maxReplyBytes: number;
}

/** What a rule or the call itself allows beyond plain requests. */
interface CachePermission {
  ttlMillis: number;
  sampledChoices: boolean;
  toolCalls: boolean;
}

/**
 * The guard's response cache: which calls it applies to (the call's own `cache` choice, else the
 * first matching rule; never by default), their keys, and the store. Refuses what a replay could
 * not reproduce faithfully: several sampled choices and tool-offering requests unless allowed,
 * and bodies that are not plain JSON.
 */
export class ResponseCache {
  private memoryStore: MemoryResponseCache | undefined;

  constructor(readonly config: NormalizedCacheConfig) {}

  /** Whether any rule can apply; without one only a call's own `cache` choice can turn caching on. */
  get hasRules(): boolean {
    return this.config.rules.length > 0;
  }

  /** The store replies live in; the in-process one is made on first use. */
  get store(): ResponseCacheStore {
    if (this.config.store) return this.config.store;
    this.memoryStore ??= new MemoryResponseCache({
      maxEntries: this.config.maxEntries,
      maxBytes: this.config.maxBytes,
    });
    return this.memoryStore;
  }

  /** The plan for a call, or undefined when it is not to be cached. */
  plan(request: CacheableRequest, scope: Readonly<CallScope>): CachePlan | undefined {
    const permission = this.permission(request.call, scope);
    if (!permission || !replayable(request.call, permission)) return undefined;
    const partition: Record<string, string> = {};
    for (const dimension of this.config.per) partition[dimension] = scope[dimension] ?? '';
    const { call, keyBody } = request;
    const key = cacheKey({
      call: keyBody ? { ...call, body: keyBody } : call,
      serverAddress: request.serverAddress,
      serverPort: request.serverPort,
      partition,
    });
    if (key === undefined) return undefined;
    return { key, ttlMillis: permission.ttlMillis, maxReplyBytes: this.config.maxReplyBytes };
  }

  /** Closes the store: the one given in the config too, as the guard closes the ledger it was given. */
  async close(): Promise<void> {
    await (this.config.store ? this.config.store.close?.() : this.memoryStore?.close());
  }

  private permission(call: LlmCallDescriptor, scope: Readonly<CallScope>): CachePermission | undefined {
    const choice: CacheChoice | undefined = scope.cache;
    if (choice === false) return undefined;
    checkCacheChoice(choice);
    if (choice === true || typeof choice === 'object') {
      const own = typeof choice === 'object' ? choice : {};
      return {
        ttlMillis: own.ttlMillis ?? this.config.ttlMillis,
        sampledChoices: own.sampledChoices ?? false,
        toolCalls: own.toolCalls ?? false,
      };
    }
    return this.config.rules.find((rule) => matches(rule, call, scope));
  }
}

function matches(rule: NormalizedCacheRule, call: LlmCallDescriptor, scope: Readonly<CallScope>): boolean {
  if (rule.provider !== undefined && rule.provider !== call.provider.toLowerCase()) return false;
  if (rule.models !== undefined && !rule.models.some((pattern) => modelMatches(pattern, call.model)))
    return false;
  if (rule.tenant !== undefined && rule.tenant !== scope.tenant) return false;
  if (rule.user !== undefined && rule.user !== scope.user) return false;
  return rule.feature === undefined || rule.feature === scope.feature;
}

function modelMatches(pattern: string, model: string): boolean {
  const name = model.toLowerCase();
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** Whether a replay would give the caller what a fresh request could: see the class comment. */
function replayable(call: LlmCallDescriptor, permission: CachePermission): boolean {
  const body = call.body;
  const config = record(body.config);
  if (!permission.toolCalls && offersTools(body, config)) return false;
  if (permission.sampledChoices) return true;
  let choices = 1;
  try {
    choices = requestShapeOf(call.operation)?.choiceCount(body) ?? 1;
  } catch {
    return false;
  }
  if (choices <= 1) return true;
  // Several choices are only the same again when nothing is sampled; the APIs' default temperature is 1.
  const temperature = body.temperature ?? config?.temperature ?? record(body.inferenceConfig)?.temperature;
  return temperature === 0;
}

function offersTools(body: Readonly<Record<string, unknown>>, config: Record<string, unknown> | undefined) {
  const lists = [body.tools, body.functions, config?.tools, record(body.toolConfig)?.tools];
  return lists.some((list) => Array.isArray(list) && list.length > 0);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
