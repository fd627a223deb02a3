import { describe, expect, it } from 'vitest';
import { parseRateLimitHeaders } from '../limits/provider-feedback';
import { rateLimitHeaders } from './rate-limit-headers';

describe('rateLimitHeaders', () => {
  it('keeps every header the provider feedback reads, and only those that can speak of limits', () => {
    const headers = new Headers({
      'content-type': 'application/json',
      'x-request-id': 'req_1',
      'X-RateLimit-Remaining-Requests': '9',
      'x-ratelimit-remaining-tokens': '900',
      'x-ratelimit-reset-requests': '6ms',
      'x-ratelimit-reset-tokens': '2s',
      'anthropic-ratelimit-requests-remaining': '8',
      'anthropic-ratelimit-tokens-remaining': '800',
      'anthropic-ratelimit-requests-reset': '2030-01-01T00:00:00Z',
      'anthropic-ratelimit-tokens-reset': '2030-01-01T00:00:00Z',
      'retry-after-ms': '250',
      'retry-after': '1',
    });
    const limits = rateLimitHeaders(headers)!;
    expect(Object.keys(limits)).not.toContain('content-type');
    expect(Object.keys(limits)).not.toContain('x-request-id');
    const call = { provider: 'openai', model: 'gpt-4o-mini' };
    const nowMs = Date.parse('2029-12-31T23:59:00Z');
    expect(parseRateLimitHeaders(limits, call, nowMs)).toEqual(parseRateLimitHeaders(headers, call, nowMs));
    const anthropic = new Headers(
      [...headers].filter(([name]) => !name.startsWith('x-') && !name.startsWith('retry')),
    );
    expect(parseRateLimitHeaders(rateLimitHeaders(anthropic)!, call, nowMs)).toEqual(
      parseRateLimitHeaders(anthropic, call, nowMs),
    );
  });

  it('is undefined for a reply that says nothing about limits', () => {
    expect(rateLimitHeaders(new Headers({ 'content-type': 'application/json' }))).toBeUndefined();
  });
});
