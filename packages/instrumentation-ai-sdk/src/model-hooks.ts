import { type CallGate, claimAdmittedRequest } from '@tollgate/core/instrumentation';
import { gatedEmbed, gatedGenerate, gatedStream, type ModelIdentity } from './gated-model-call';
import type { CallOptions, EmbedOptions, ModelMethod } from './internal-types';
import { claimMiddlewareCall } from './middleware-calls';
import type { ModelKind } from './provider-packages';
import { asRecord } from './utils';

/** What every prototype wrapper needs from the instrumentation, read at call time. */
export interface GateAccess {
  gate(): CallGate | undefined;
  providerName(): string | undefined;
}

/** A model the gate can describe: anything else goes to the provider untouched. */
function isModel(value: unknown): value is object & ModelIdentity {
  const model = asRecord(value);
  return typeof model?.provider === 'string' && typeof model.modelId === 'string';
}

/**
 * The wrapper of one model prototype method (`doGenerate`, `doStream` or `doEmbed`). A call that an
 * outer Tollgate gate already admitted (a `tollgateMiddleware()` around this model) passes
 * through, so its tokens are counted once.
 */
export function gatedModelMethod(
  kind: ModelKind,
  method: string,
  original: ModelMethod<Record<string, unknown>>,
  access: GateAccess,
): ModelMethod<Record<string, unknown>> {
  const run = (model: object, options: Record<string, unknown>) => original.call(model, options);
  const gated = kind === 'embedding' ? gatedEmbed : method === 'doStream' ? gatedStream : gatedGenerate;
  return {
    [method](this: object, options: Record<string, unknown>): PromiseLike<unknown> {
      const gate = access.gate();
      if (!gate || !isModel(this) || !asRecord(options) || claimAdmittedRequest() || claimMiddlewareCall())
        return original.call(this, options);
      return (gated as (...args: unknown[]) => Promise<unknown>)(
        gate,
        this,
        options as CallOptions & EmbedOptions,
        access.providerName(),
        run,
      );
    },
  }[method]!;
}
