import { createHash } from 'node:crypto';
import type { LlmCallDescriptor } from '../call/llm-call';

/** What a cache key is made of: the call, where it goes, and the partition it is cached in. */
export interface CacheKeyParts {
  call: LlmCallDescriptor;
  /** Host and port the request goes to: the same body sent elsewhere is another request. */
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  /** Scope values the cache is split by (`per`), so one tenant never sees another's entries. */
  partition: Readonly<Record<string, string>>;
}

/**
 * Top-level body fields whose value here means the same as leaving them out: the API's own
 * default. Normalised away so `{ stream: false }` and `{}` share an entry.
 */
const DEFAULT_FIELDS: ReadonlyArray<readonly [string, unknown]> = [
  ['stream', false],
  ['n', 1],
];

/**
 * The sha256 of the request's canonical form: provider, operation, endpoint, model and every
 * body field, object keys sorted at every depth, known defaults removed. Undefined when the body
 * holds something that is not plain JSON (a file, a buffer, a function): such a request is not
 * cached, since its canonical form would not say everything the provider receives.
 */
export function cacheKey(parts: CacheKeyParts): string | undefined {
  const body: Record<string, unknown> = { ...parts.call.body };
  for (const [field, value] of DEFAULT_FIELDS) if (body[field] === value) delete body[field];
  const canonical = canonicalJson({
    version: 1,
    provider: parts.call.provider,
    operation: parts.call.operation,
    address: parts.serverAddress ?? null,
    port: parts.serverPort ?? null,
    model: parts.call.model,
    body,
    partition: parts.partition,
  });
  if (canonical === undefined) return undefined;
  return createHash('sha256').update(canonical).digest('hex');
}

/** JSON with object keys sorted and undefined fields left out; undefined for anything JSON cannot say exactly. */
export function canonicalJson(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) {
      const text = item === undefined ? 'null' : canonicalJson(item);
      if (text === undefined) return undefined;
      items.push(text);
    }
    return `[${items.join(',')}]`;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const fields: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    const text = canonicalJson(field);
    if (text === undefined) return undefined;
    fields.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${fields.join(',')}}`;
}
