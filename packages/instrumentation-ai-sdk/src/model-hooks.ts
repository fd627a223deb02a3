import { type CallGate, claimAdmittedRequest } from '@tollgate/core/instrumentation';
import { claimAdmittedModelCall } from './admitted-model-calls';
import { gatedEmbed, gatedGenerate, gatedStream, type ModelIdentity } from './gated-model-call';
import type { CallOptions, EmbedOptions, ModelMethod } from './internal-types';
import type { CallRouting } from './model-routing';
import type { ModelKind } from './provider-packages';
import { asRecord } from './utils';

/** What every prototype wrapper needs from the instrumentation, read at call time. */
export interface GateAccess {
  gate(): CallGate | undefined;
  routing(): CallRouting;
}

/** A model the gate can describe: anything else goes to the provider untouched. */
function isModel(value: unknown): value is object & ModelIdentity {
  const model = asRecord(value);
  return typeof model?.provider === 'string' && typeof model.modelId === 'string';
}

/**
 * The wrapper of one model prototype method (`doGenerate`, `doStream` or `doEmbed`). A call that an
 * outer Tollgate gate already admitted (a `tollgateMiddleware()` around this model, or a gated call
 * this model is the substitute of) passes through, so its tokens are counted once.
 */
export function gatedModelMethod(
  kind: ModelKind,
  method: string,
  original: ModelMethod<Record<string, unknown>>,
  access: GateAccess,
): ModelMethod<Record<string, unknown>> {
  const gated = kind === 'embedding' ? gatedEmbed : method === 'doStream' ? gatedStream : gatedGenerate;
  return {
    [method](this: object, options: Record<string, unknown>): PromiseLike<unknown> {
      const gate = access.gate();
      if (!gate || !isModel(this) || !asRecord(options) || claimAdmittedRequest() || claimAdmittedModelCall())
        return original.call(this, options);
      // The model asked for (or one differing only in its modelId) runs this class's method; a
      // substitute of another class runs its own, which lets the admitted call through.
      const run = (model: object, sent: Record<string, unknown>): PromiseLike<unknown> =>
        model === this || Object.getPrototypeOf(model) === this
          ? original.call(model, sent)
          : (model as Record<string, ModelMethod<Record<string, unknown>>>)[method]!.call(model, sent);
      return (gated as (...args: unknown[]) => Promise<unknown>)(
        gate,
        this,
        options as CallOptions & EmbedOptions,
        access.routing(),
        run,
      );
    },
  }[method]!;
}
