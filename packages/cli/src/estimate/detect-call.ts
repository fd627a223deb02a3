import type { LlmCallDescriptor, OperationName, PriceTable } from '@tollgate/core';
import { CliError, usageError } from '../cli-error';

export const PROVIDERS = ['openai', 'anthropic'] as const;
export const OPERATIONS: readonly OperationName[] = [
  'chat',
  'responses',
  'embeddings',
  'text_completion',
  'messages',
];

export interface CallHints {
  provider?: string;
  operation?: string;
  model?: string;
}

/** The call a request body describes, with how its provider and operation were told. */
export interface DetectedCall {
  call: LlmCallDescriptor;
  providerFrom: string;
  operationFrom: string;
}

/**
 * Works out provider, operation and model of a request body as an SDK would send it: from the
 * flags when given, else from the model's price entry and the body's fields.
 */
export function detectCall(body: unknown, hints: CallHints, prices: PriceTable): DetectedCall {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CliError('The request must be a JSON object (the body the SDK sends)');
  }
  const record = body as Record<string, unknown>;
  const provider = hints.provider?.toLowerCase();
  if (
    provider === 'gemini' ||
    provider === 'google' ||
    (provider === undefined && ('contents' in record || 'generationConfig' in record))
  ) {
    throw new CliError(
      'Gemini request bodies are not supported yet: @tollgate/core estimates OpenAI and Anthropic requests only',
    );
  }
  if (provider !== undefined && !(PROVIDERS as readonly string[]).includes(provider)) {
    throw usageError(`--provider must be one of ${PROVIDERS.join(', ')} (got "${hints.provider}")`);
  }
  const model = hints.model ?? record.model;
  if (typeof model !== 'string' || model === '') {
    throw new CliError('The request names no model: add "model" to the body, or pass --model');
  }
  const priced = prices.resolve(model);

  let resolvedProvider: string;
  let providerFrom: string;
  if (provider !== undefined) {
    resolvedProvider = provider;
    providerFrom = '--provider';
  } else if (priced?.price.provider) {
    resolvedProvider = priced.price.provider;
    providerFrom = `the price table (${priced.model})`;
  } else if (/^(anthropic\/)?claude/i.test(model) || 'anthropic_version' in record) {
    resolvedProvider = 'anthropic';
    providerFrom = 'the model name';
  } else {
    throw usageError(`Cannot tell which provider "${model}" belongs to: pass --provider openai|anthropic`);
  }

  let operation: OperationName;
  let operationFrom = '--operation';
  if (hints.operation !== undefined) {
    if (!OPERATIONS.includes(hints.operation as OperationName)) {
      throw usageError(`--operation must be one of ${OPERATIONS.join(', ')} (got "${hints.operation}")`);
    }
    operation = hints.operation as OperationName;
  } else if (resolvedProvider === 'anthropic') {
    operation = 'messages';
    operationFrom = 'Anthropic has one request shape (messages)';
  } else if ('messages' in record) {
    operation = 'chat';
    operationFrom = 'the body has "messages"';
  } else if ('prompt' in record) {
    operation = 'text_completion';
    operationFrom = 'the body has "prompt"';
  } else if ('input' in record) {
    const embedding =
      priced?.price.kind === 'embedding' ||
      /embed/i.test(model) ||
      'encoding_format' in record ||
      'dimensions' in record;
    operation = embedding ? 'embeddings' : 'responses';
    operationFrom = embedding
      ? 'the body has "input" and the model is an embedding model'
      : 'the body has "input" (Responses API)';
  } else {
    throw usageError(
      `Cannot tell the operation from the body (no "messages", "input" or "prompt"): pass --operation ${OPERATIONS.join('|')}`,
    );
  }
  if (resolvedProvider === 'anthropic' && operation !== 'messages') {
    throw usageError(`Anthropic requests are "messages", not "${operation}"`);
  }
  return {
    call: { provider: resolvedProvider, operation, model, body: record },
    providerFrom,
    operationFrom,
  };
}
