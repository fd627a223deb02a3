import type { SubstituteReach } from '@tollgate/core';
import { TollgateConfigError } from '@tollgate/core';
import type { GatedRequest, GuardedCall } from '@tollgate/core/instrumentation';
import type { LanguageModelLike } from './internal-types';
import { asRecord } from './utils';

/** How a gate names its calls and where it may send them. */
export interface CallRouting {
  /** `gen_ai.provider.name` for every call; unset, derived from the model's `provider`. */
  readonly providerName: string | undefined;
  /** Model objects by `provider:model` id, for the substitutes routing rules pick. */
  readonly models: Readonly<Record<string, LanguageModelLike>> | undefined;
  /** Where errors name `models`: `instrumentations.aiSdk.models`. */
  readonly modelsPath: string;
  /** Which other providers' models a rule may send a call to: the registered ones only. */
  readonly reach: SubstituteReach | undefined;
}

/**
 * A gate's routing from its options, `models` checked (see `readModels`).
 *
 * @throws {TollgateConfigError} Naming the exact `models` entry.
 */
export function callRouting(
  providerName: string | undefined,
  models: unknown,
  modelsPath: string,
): CallRouting {
  const registered = readModels(models, modelsPath);
  return {
    providerName,
    models: registered,
    modelsPath,
    reach: registered && ((provider, model) => Object.hasOwn(registered, `${provider}:${model}`)),
  };
}

/**
 * Checks a `models` option: an object whose keys are `provider:model` ids and whose values are
 * AI SDK language models (with `doGenerate` and `doStream`).
 *
 * @throws {TollgateConfigError} Naming the exact entry.
 */
function readModels(value: unknown, path: string): Readonly<Record<string, LanguageModelLike>> | undefined {
  if (value === undefined) return undefined;
  const record = asRecord(value);
  if (!record || Array.isArray(value))
    throw new TollgateConfigError(path, 'must be an object of model objects by provider:model id', value);
  for (const [id, model] of Object.entries(record)) {
    const field = `${path}['${id}']`;
    const colon = id.indexOf(':');
    if (colon <= 0 || colon === id.length - 1)
      throw new TollgateConfigError(
        field,
        "must be keyed by a provider:model id, e.g. 'anthropic:claude-haiku-4-5'",
        id,
      );
    const candidate = asRecord(model);
    if (typeof candidate?.doGenerate !== 'function' || typeof candidate.doStream !== 'function')
      throw new TollgateConfigError(
        field,
        'must be an AI SDK language model (with doGenerate and doStream)',
        model,
      );
  }
  return Object.keys(record).length > 0 ? (record as Record<string, LanguageModelLike>) : undefined;
}

/**
 * The model object to run an admitted call on:
 *
 * - the model asked for, when admitted as it is;
 * - the model registered for the admitted `provider:model` id, when there is one (a routing rule
 *   picked a substitute, possibly of another provider: every AI SDK model takes the same call);
 * - for another model of the same provider with none registered, an object that inherits
 *   everything from the model asked for but its `modelId`, which every provider package reads
 *   when it builds the request.
 *
 * @throws {TollgateConfigError} When the admission names another provider's model nobody
 *   registered; rules only pick registered ones (`reach`), so this marks a broken invariant.
 */
export function admittedModel(
  model: object & { readonly modelId: string },
  request: GatedRequest,
  call: GuardedCall,
  routing: CallRouting,
): object {
  const { descriptor } = request;
  const { model: admitted } = call.admission;
  // A core that predates cross-provider routing reports no provider: the call's own.
  const provider = (call.admission.provider as string | undefined) ?? descriptor.provider;
  if (provider === descriptor.provider && admitted === descriptor.model) return model;
  const registered = routing.models?.[`${provider}:${admitted}`];
  if (registered) return registered;
  if (provider === descriptor.provider)
    return Object.create(model, { modelId: { value: admitted, enumerable: true } }) as object;
  throw new TollgateConfigError(
    `${routing.modelsPath}['${provider}:${admitted}']`,
    'must be registered: a routing rule sent a call to this model',
    undefined,
  );
}
