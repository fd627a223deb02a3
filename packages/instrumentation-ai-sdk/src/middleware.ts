import { metrics, trace } from '@opentelemetry/api';
import { TollgateConfigError } from '@tollgate/core';
import { CallGate, claimAdmittedRequest, hasOwnWrapper, methodHost } from '@tollgate/core/instrumentation';
import { claimAdmittedModelCall } from './admitted-model-calls';
import { gatedGenerate, gatedStream, type ModelIdentity } from './gated-model-call';
import { PACKAGE_NAME, PACKAGE_VERSION } from './instrumentation';
import type { CallOptions, LanguageModelLike } from './internal-types';
import { callRouting } from './model-routing';
import type { TollgateMiddlewareOptions } from './types';

/** What `wrapGenerate` / `wrapStream` receive from `wrapLanguageModel()` (AI SDK 5, 6 and 7 alike). */
interface WrapOptions {
  doGenerate: () => PromiseLike<unknown>;
  doStream: () => PromiseLike<unknown>;
  params: CallOptions;
  model: LanguageModelLike;
}

/**
 * A language-model middleware for `wrapLanguageModel()`, structurally typed so it fits the
 * `LanguageModelMiddleware` of every AI SDK major this package supports.
 */
export interface TollgateLanguageModelMiddleware {
  readonly specificationVersion: 'v3';
  // Generic in the result, so the object is assignable to each major's typed middleware.
  wrapGenerate<Result>(options: WrapOptions): PromiseLike<Result>;
  wrapStream<Result>(options: WrapOptions): PromiseLike<Result>;
}

/**
 * Whether the call goes through ungated here: `AiSdkInstrumentation` already gates this model on
 * its class's prototype, or another Tollgate gate already admitted this call (this wrapped model
 * is the substitute it chose).
 */
function passesThrough(model: LanguageModelLike, method: 'doGenerate' | 'doStream'): boolean {
  if (hasOwnWrapper(methodHost(model, method), method, PACKAGE_NAME)) return true;
  return claimAdmittedRequest() || claimAdmittedModelCall();
}

/**
 * Gates every call of a language model wrapped with it, for models `register()` does not patch
 * (other provider packages, custom models, gateways): each `doGenerate` / `doStream` passes the
 * guard before the provider request, with the same estimate, reservation, settlement, refusals
 * and span as the instrumented providers. A model whose class `AiSdkInstrumentation` already
 * patches is passed straight through, so its tokens are counted once.
 *
 * @param options - The guard, and optionally the provider name and telemetry providers.
 * @returns The middleware.
 * @throws {TollgateConfigError} When `options.guard` is not a guard made by `createGuard()`.
 * @example
 * ```ts
 * const model = wrapLanguageModel({ model: groq('llama-3.3-70b-versatile'), middleware: tollgateMiddleware({ guard }) });
 * await generateText({ model, prompt: 'Hello' });
 * ```
 */
export function tollgateMiddleware(options: TollgateMiddlewareOptions): TollgateLanguageModelMiddleware {
  const { guard, providerName } = options ?? ({} as TollgateMiddlewareOptions);
  if (typeof (guard as { admit?: unknown } | undefined)?.admit !== 'function')
    throw new TollgateConfigError('tollgateMiddleware.guard', 'must be a guard made by createGuard()', guard);
  if (providerName !== undefined && typeof providerName !== 'string')
    throw new TollgateConfigError('tollgateMiddleware.providerName', 'must be a string', providerName);
  const routing = callRouting(providerName, options.models, 'tollgateMiddleware.models');
  let gate: CallGate | undefined;
  const gateOf = (): CallGate => {
    gate ??= new CallGate(
      guard,
      (options.tracerProvider ?? trace.getTracerProvider()).getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      (options.meterProvider ?? metrics.getMeterProvider()).getMeter(PACKAGE_NAME, PACKAGE_VERSION),
    );
    return gate;
  };
  const model = (wrapped: LanguageModelLike): object & ModelIdentity => wrapped as object & ModelIdentity;
  return {
    specificationVersion: 'v3',
    wrapGenerate<Result>({ doGenerate, params, model: inner }: WrapOptions): PromiseLike<Result> {
      if (passesThrough(inner, 'doGenerate')) return doGenerate() as PromiseLike<Result>;
      return gatedGenerate(gateOf(), model(inner), params, routing, (target, sent) =>
        (target as LanguageModelLike).doGenerate(sent),
      ) as Promise<Result>;
    },
    wrapStream<Result>({ doStream, params, model: inner }: WrapOptions): PromiseLike<Result> {
      if (passesThrough(inner, 'doStream')) return doStream() as PromiseLike<Result>;
      return gatedStream(gateOf(), model(inner), params, routing, (target, sent) =>
        (target as LanguageModelLike).doStream(sent),
      ) as Promise<Result>;
    },
  };
}
