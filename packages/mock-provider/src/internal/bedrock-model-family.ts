import { isRecord } from './reply-context';

/** The request and response body formats InvokeModel speaks, one per model provider. */
export type BedrockModelFamily = 'anthropic' | 'nova' | 'llama' | 'mistral';

// Cross-region inference profiles prefix the model id with a geography.
const PROFILE_PREFIX = /^(?:us|us-gov|eu|apac|au|ca|jp|global)\./;

/**
 * The body format for a model id as Bedrock takes it: a base id (`anthropic.claude-…`), a
 * cross-region profile (`us.anthropic.claude-…`) or an ARN of either; an application inference
 * profile's opaque ARN falls back to the body's own shape.
 */
export function modelFamily(modelId: string, body: Record<string, unknown>): BedrockModelFamily | undefined {
  const resource = modelId.startsWith('arn:') ? modelId.slice(modelId.lastIndexOf('/') + 1) : modelId;
  const base = resource.replace(PROFILE_PREFIX, '');
  if (base.startsWith('anthropic.')) return 'anthropic';
  if (base.startsWith('amazon.nova')) return 'nova';
  if (base.startsWith('meta.llama')) return 'llama';
  if (base.startsWith('mistral.')) return 'mistral';
  if (typeof body.anthropic_version === 'string') return 'anthropic';
  if (Array.isArray(body.messages)) return 'nova';
  if (typeof body.prompt === 'string') return 'max_gen_len' in body ? 'llama' : 'mistral';
  return undefined;
}

const ALLOWED_KEYS: Record<BedrockModelFamily, Set<string>> = {
  anthropic: new Set([
    'anthropic_version',
    'anthropic_beta',
    'max_tokens',
    'messages',
    'system',
    'temperature',
    'top_p',
    'top_k',
    'stop_sequences',
    'tools',
    'tool_choice',
    'thinking',
    'metadata',
    'output_config',
  ]),
  nova: new Set(['schemaVersion', 'messages', 'system', 'inferenceConfig', 'toolConfig']),
  llama: new Set(['prompt', 'max_gen_len', 'temperature', 'top_p', 'images']),
  mistral: new Set(['prompt', 'max_tokens', 'temperature', 'top_p', 'top_k', 'stop']),
};

/** Bedrock's checks on a model's own body: required fields, and no keys the model does not take. */
export function validateInvokeBody(
  family: BedrockModelFamily | undefined,
  body: Record<string, unknown>,
): string | undefined {
  if (!family) return 'The provided model identifier is invalid.';
  const extra = Object.keys(body).find((key) => !ALLOWED_KEYS[family].has(key));
  if (extra !== undefined)
    return `Malformed input request: #: extraneous key [${extra}] is not permitted, please reformat your input and try again.`;
  switch (family) {
    case 'anthropic':
      if (typeof body.anthropic_version !== 'string')
        return 'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.';
      if (!Number.isInteger(body.max_tokens))
        return 'Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.';
      if (!Array.isArray(body.messages))
        return 'Malformed input request: #: required key [messages] not found, please reformat your input and try again.';
      return undefined;
    case 'nova':
      if (!Array.isArray(body.messages))
        return 'Malformed input request: #: required key [messages] not found, please reformat your input and try again.';
      return undefined;
    case 'llama':
    case 'mistral':
      if (typeof body.prompt !== 'string')
        return 'Malformed input request: #: required key [prompt] not found, please reformat your input and try again.';
      return undefined;
  }
}

/** The model's output cap in its own body, for the rate-limit window and the reply. */
export function invokeMaxTokens(
  family: BedrockModelFamily | undefined,
  body: Record<string, unknown>,
): number | undefined {
  const whole = (value: unknown) =>
    Number.isInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
  switch (family) {
    case 'anthropic':
    case 'mistral':
      return whole(body.max_tokens);
    case 'nova':
      return isRecord(body.inferenceConfig) ? whole(body.inferenceConfig.max_new_tokens) : undefined;
    case 'llama':
      return whole(body.max_gen_len);
    default:
      return undefined;
  }
}
