import type { ServerResponse } from 'node:http';
import type { MockProviderName } from '../served-request';
import { errorReply } from './error-bodies';
import type { HttpRequest, HttpResponse } from './exchange';
import {
  anthropicRateLimitHeaders,
  openaiRateLimitHeaders,
  type RateLimitSnapshot,
} from './rate-limit-window';

/** Headers every response of a provider carries: its request id where the API sends one. */
export function responseHeaders(provider: MockProviderName, id: string): Record<string, string> {
  switch (provider) {
    case 'openai':
      return { 'x-request-id': id, 'openai-version': '2020-10-01' };
    case 'anthropic':
      return { 'request-id': id };
    case 'aws.bedrock':
      return { 'x-amzn-requestid': id };
    default:
      // The Gemini API and Vertex AI name the response in the body (`responseId`), not a header.
      return {};
  }
}

/** Rate-limit headers for providers that send them (OpenAI, Anthropic); the others send none. */
export function rateLimitHeaders(
  provider: MockProviderName,
  window: RateLimitSnapshot,
  nowMs: number,
): Record<string, string> {
  if (provider === 'openai') return openaiRateLimitHeaders(window);
  if (provider === 'anthropic') return anthropicRateLimitHeaders(window, nowMs);
  return {};
}

/** What each provider says when an enforced rate limit refuses a request. */
export function rateLimitMessage(
  provider: MockProviderName,
  model: string,
  window: RateLimitSnapshot,
): string {
  const seconds = Math.ceil(window.retryAfterMillis / 1000);
  const exceeded = window.exceeded ?? 'requests';
  switch (provider) {
    case 'aws.bedrock':
      return `Too many ${exceeded}, please wait before trying again.`;
    case 'gcp.gemini':
    case 'gcp.vertex_ai':
      return `Resource has been exhausted (e.g. check quota). Quota exceeded for ${exceeded} per minute for ${model}.`;
    default:
      return `Rate limit reached for ${model} on ${exceeded} per min. Please try again in ${seconds}s.`;
  }
}

/** The provider a request to an unknown path looks like, from its headers and path. */
function lookalike(request: HttpRequest): MockProviderName {
  const headers = request.headers;
  if (headers['anthropic-version'] !== undefined) return 'anthropic';
  if (headers['x-goog-api-client'] !== undefined) return 'gcp.gemini';
  const authorization = headers.authorization;
  if (
    (typeof authorization === 'string' && authorization.startsWith('AWS4-')) ||
    request.url?.startsWith('/model/')
  ) {
    return 'aws.bedrock';
  }
  return 'openai';
}

/** Unknown paths get a 404 in the shape of whichever provider the client looks like. */
export function notFound(request: HttpRequest, response: HttpResponse): void {
  request.resume();
  const provider = lookalike(request);
  const message = `Invalid URL (${request.method} ${request.url})`;
  let body: object;
  let headers: Record<string, string> = {};
  if (provider === 'anthropic') {
    body = { type: 'error', error: { type: 'not_found_error', message } };
  } else if (provider === 'openai') {
    body = { error: { message, type: 'invalid_request_error', param: null, code: null } };
  } else if (provider === 'aws.bedrock') {
    body = { message };
    headers = {
      'x-amzn-errortype': 'UnknownOperationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
    };
  } else {
    ({ body, headers } = errorReply(provider, 404, '', { message }));
  }
  const text = JSON.stringify(body);
  (response as ServerResponse).writeHead(404, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
