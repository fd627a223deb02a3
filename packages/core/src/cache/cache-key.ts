import { createHash } from 'node:crypto';
import { canonicalJson } from '../call/canonical-json';
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
