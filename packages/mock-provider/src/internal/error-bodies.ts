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

// google.rpc.Code names, as the Gemini API and Vertex AI put them in `error.status`.
const GOOGLE_STATUSES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
  529: 'UNAVAILABLE',
};

// Bedrock Runtime's modelled exceptions, so the SDK raises its typed error class.
const BEDROCK_TYPES: Record<number, string> = {
  400: 'ValidationException',
  401: 'UnrecognizedClientException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  409: 'ConflictException',
  413: 'ValidationException',
  422: 'ValidationException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  502: 'InternalServerException',
  503: 'ServiceUnavailableException',
  504: 'ModelTimeoutException',
  529: 'ServiceUnavailableException',
};

/** Details an error body can carry beyond its status. */
export interface ErrorDetail {
  message?: string | undefined;
  /** OpenAI's `param`. */
  param?: string | null;
  /** OpenAI's `type` for a 429: `requests` or `tokens`. */
  rateLimitType?: 'requests' | 'tokens';
  /** Google's `RetryInfo.retryDelay` on a 429. */
  retryAfterMillis?: number | undefined;
}

/** An error response: body and the headers that go with it. */
export interface ErrorReply {
  body: object;
  headers: Record<string, string>;
}

/**
 * The error each provider sends, body and headers: OpenAI and Anthropic as `errorBody()`;
 * Google `{ error: { code, message, status, details } }` with a `RetryInfo` on 429s; Bedrock
 * `{ message }` with the exception named in `x-amzn-errortype`, as the AWS SDK reads it.
 */
export function errorReply(
  provider: MockProviderName,
  status: number,
  requestId: string,
  detail: ErrorDetail = {},
): ErrorReply {
  const message = detail.message ?? DEFAULT_MESSAGES[status] ?? `HTTP ${status}`;
  if (provider === 'gcp.gemini' || provider === 'gcp.vertex_ai') {
    const error: Record<string, unknown> = {
      code: status,
      message,
      status: GOOGLE_STATUSES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
    };
    if (status === 429 && detail.retryAfterMillis !== undefined) {
      const seconds = Number((detail.retryAfterMillis / 1000).toFixed(3));
      error.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` }];
    }
    return { body: { error }, headers: {} };
  }
  if (provider === 'aws.bedrock') {
    const type = BEDROCK_TYPES[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
    return {
      body: { message },
      headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
    };
  }
  return { body: errorBody(provider, status, requestId, detail), headers: {} };
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
