import type { MockEndpoint, MockProviderName } from '../served-request';

export interface Route {
  provider: MockProviderName;
  endpoint: MockEndpoint;
}

const ROUTES = new Map<string, Route>([
  ['/v1/chat/completions', { provider: 'openai', endpoint: 'chat.completions' }],
  ['/v1/responses', { provider: 'openai', endpoint: 'responses' }],
  ['/v1/embeddings', { provider: 'openai', endpoint: 'embeddings' }],
  ['/v1/completions', { provider: 'openai', endpoint: 'completions' }],
  ['/v1/messages', { provider: 'anthropic', endpoint: 'messages' }],
  ['/v1/messages/count_tokens', { provider: 'anthropic', endpoint: 'messages.count_tokens' }],
]);

/** The route for a `POST` to `url` (query ignored, so `?beta=true` lands on the same route). */
export function matchRoute(method: string | undefined, url: string | undefined): Route | undefined {
  if (method !== 'POST' || url === undefined) return undefined;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return ROUTES.get(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
}
