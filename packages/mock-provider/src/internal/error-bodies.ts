import type { MockProviderName } from '../served-request';

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Invalid request.',
  401: 'Incorrect API key provided.',
  403: 'You are not allowed to use this resource.',
  404: 'The requested resource does not exist.',
  408: 'Request timed out.',
  409: 'Conflicting request.',
  413: 'Request exceeds the maximum allowed size.',
  422: 'Unprocessable request.',
  429: 'Rate limit reached (injected by the mock provider).',
  500: 'The server had an error while processing your request.',
  502: 'Bad gateway.',
  503: 'The service is temporarily unavailable.',
  504: 'Gateway timed out.',
  529: 'Overloaded.',
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  409: 'conflict_error',
  413: 'request_too_large',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const OPENAI_CODES: Record<number, string | null> = {
  401: 'invalid_api_key',
  404: 'not_found',
  429: 'rate_limit_exceeded',
};

/** Details an error body can carry beyond its status. */
export interface ErrorDetail {
  message?: string | undefined;
  /** OpenAI's `param`. */
  param?: string | null;
  /** OpenAI's `type` for a 429: `requests` or `tokens`. */
  rateLimitType?: 'requests' | 'tokens';
}

/**
 * The JSON error body each provider sends, so the SDKs build their typed errors from it:
 * OpenAI `{ error: { message, type, param, code } }`; Anthropic
 * `{ type: 'error', error: { type, message }, request_id }`.
 */
export function errorBody(
  provider: MockProviderName,
  status: number,
  requestId: string,
  detail: ErrorDetail = {},
): object {
  const message = detail.message ?? DEFAULT_MESSAGES[status] ?? `HTTP ${status}`;
  if (provider === 'anthropic') {
    const type = ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message }, request_id: requestId };
  }
  let type = status >= 500 ? 'server_error' : 'invalid_request_error';
  if (status === 429) type = detail.rateLimitType ?? 'requests';
  return { error: { message, type, param: detail.param ?? null, code: OPENAI_CODES[status] ?? null } };
}
