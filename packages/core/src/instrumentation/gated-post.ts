import { claimAdmittedRequest } from '../telemetry/admitted-request';
import type { CallGate } from '../telemetry/call-gate';
import { deferredAPIPromise, isThenable } from '../telemetry/deferred-api-promise';
import type { APIPromiseConstructor, APIPromiseParts } from '../telemetry/gated-api-promise';
import { isRecord } from '../tokens/untrusted-json';
import { gatedSdkCall, type ModelRequestBody, type SdkCall } from './gated-sdk-call';

/** The SDK client's `post(path, options)`, through which every resource method sends its request. */
export type PostMethod<Client> = (this: Client, path: string, opts?: unknown) => APIPromiseParts;

export interface GatedPostOptions<Client> {
  gate(): CallGate | undefined;
  /** The SDK's own `APIPromise` class, from the same copy of the SDK as the client. */
  APIPromise: APIPromiseConstructor;
  /** Whether `post(path)` is a request the gate handles; any other passes untouched, unread. */
  gates(path: string): boolean;
  /** The call a gated request makes; undefined lets it pass untouched. */
  describe(
    client: Client,
    path: string,
    body: ModelRequestBody,
    options: Record<string, unknown>,
  ): SdkCall | undefined;
}

/**
 * Wraps an SDK client's `post()` so the requests `gates` picks pass the gate before they are
 * built, while `post()` still returns the SDK's own `APIPromise` synchronously. Other
 * instrumentations wrap resource methods, not `post()`, so a gate here holds whatever they do.
 * The request an outer Tollgate gate already admitted passes straight through.
 */
export function gatedPost<Client>(
  original: PostMethod<Client>,
  gated: GatedPostOptions<Client>,
): PostMethod<Client> {
  return function post(this: Client, path: string, opts?: unknown): APIPromiseParts {
    if (!gated.gates(path)) return original.call(this, path, opts);
    const gate = gated.gate();
    if (!gate || claimAdmittedRequest()) return original.call(this, path, opts);
    // The SDKs' types allow a promise of the options, and openai 7's create() passes one.
    if (isThenable(opts)) {
      return deferredAPIPromise(gated.APIPromise, this, opts, (resolved) => post.call(this, path, resolved));
    }
    const options = isRecord(opts) ? opts : undefined;
    const body = isRecord(options?.body) ? options.body : undefined;
    // Without a body the gate can describe, step aside and let the SDK (or the API) speak.
    const call =
      options && body && typeof body.model === 'string'
        ? gated.describe(this, path, body as ModelRequestBody, options)
        : undefined;
    if (!options || !call) return original.call(this, path, opts);
    const client = this;
    // The call is passed as it is: spreading an object of unknown shape is a slow copy on every call.
    return gatedSdkCall(gate, call, {
      APIPromise: gated.APIPromise,
      client,
      signal: (options as { signal?: AbortSignal }).signal,
      body: body as ModelRequestBody,
      // A method, not an arrow property: the build names every arrow bound to a name, once per call.
      send(sent) {
        return original.call(client, path, { ...options, body: sent });
      },
    });
  };
}
