import { context } from '@opentelemetry/api';
import type { CallOptions } from '../guard/guard';
import type { GuardedCall } from './guarded-call';

/**
 * The shape both provider SDKs (Stainless-generated) give their `APIPromise`: a Promise
 * subclass built from the client, a promise of the raw response, and a parser.
 */
export interface APIPromiseParts {
  responsePromise: Promise<unknown>;
  parseResponse: (client: unknown, props: unknown) => Promise<unknown>;
}

export type APIPromiseConstructor<P extends APIPromiseParts = APIPromiseParts> = new (
  client: unknown,
  responsePromise: Promise<unknown>,
  parseResponse: (client: unknown, props: unknown) => Promise<unknown>,
) => P;

export interface GatedAPIPromiseOptions<P extends APIPromiseParts> {
  /** The SDK's own `APIPromise` class, from the same copy of the SDK as the resource. */
  APIPromise: APIPromiseConstructor<P>;
  client: unknown;
  /**
   * The caller's abort signal: the SDK request options' `signal`. An abort while the call
   * waits at the gate rejects it at once with the SDK's own abort error; nothing is reserved
   * or sent, and its place in the rate-limit queue goes to the next caller.
   */
  signal?: AbortSignal | null | undefined;
  /**
   * The error an aborted wait rejects with.
   * @default the SDK's `APIUserAbortError`, found as a static of the client's class (both
   * Stainless SDKs have it); the signal's reason when the client has none
   */
  abortError?: () => unknown;
  /**
   * Admits the call (`CallGate.begin`, passing `options` on); rejects with the typed error
   * when the gate refuses.
   */
  admit: (options: CallOptions) => Promise<GuardedCall>;
  /** Starts the SDK's original request; runs inside the admitted call's context. */
  send: (call: GuardedCall) => APIPromiseParts;
  /** Sees the parsed result (object or stream) and settles the call, returning what the caller gets. */
  observe: (parsed: unknown, call: GuardedCall) => unknown;
}

/**
 * Builds the SDK's own `APIPromise`, synchronously, around a request that only starts once
 * the gate admits the call. `withResponse()`, `asResponse()`, `_thenUnwrap()` helpers and
 * `instanceof APIPromise` keep working because the promise is the SDK's class, built the
 * SDK's way; a refused call rejects with the typed error and sends nothing.
 */
export function gatedAPIPromise<P extends APIPromiseParts>(options: GatedAPIPromiseOptions<P>): P {
  let inner: APIPromiseParts | undefined;
  let call: GuardedCall | undefined;
  const signal = options.signal ?? undefined;
  // One reaction for either outcome of the admission, not a catch and then a then.
  const responsePromise = options.admit(signal ? { signal } : {}).then(
    (admitted) => {
      call = admitted;
      try {
        inner = context.with(admitted.context, () => options.send(admitted));
      } catch (error) {
        admitted.fail(error);
        throw error;
      }
      return inner.responsePromise.then(undefined, (error: unknown) => {
        admitted.fail(error);
        throw error;
      });
    },
    (error: unknown) => {
      // The gate rejects an aborted wait with the signal's reason; the caller expects the SDK's own error.
      throw signal?.aborted ? sdkAbortError(options, signal) : error;
    },
  );
  // The SDK's own promise is lazy: a caller who never awaits it must not crash the process on a rejection.
  responsePromise.catch(() => {});

  // Passed inline: the build names every arrow bound to a name, which costs once per call.
  return new options.APIPromise(options.client, responsePromise, (client: unknown, props: unknown) =>
    inner!.parseResponse(client, props).then(
      (parsed) => options.observe(parsed, call!),
      (error: unknown) => {
        call!.fail(error);
        throw error;
      },
    ),
  );
}

type AbortErrorClass = new () => unknown;

/** The SDK's `APIUserAbortError` (a static of its client class), what the SDK itself throws on abort. */
function sdkAbortError(options: GatedAPIPromiseOptions<APIPromiseParts>, signal: AbortSignal): unknown {
  if (options.abortError) return options.abortError();
  const ClientClass = (options.client as { constructor?: { APIUserAbortError?: unknown } } | null)
    ?.constructor;
  const ErrorClass = ClientClass?.APIUserAbortError;
  if (typeof ErrorClass === 'function') return new (ErrorClass as AbortErrorClass)();
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
