import { describe, expect, it } from 'vitest';
import { parseDuration, parseRateLimitHeaders } from './provider-feedback';

const call = { provider: 'openai', model: 'gpt-4o' };

describe('parseRateLimitHeaders', () => {
  it('reads OpenAI x-ratelimit headers with duration resets', () => {
    const headers = new Headers({
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-remaining-tokens': '149982',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(parseRateLimitHeaders(headers, call)).toEqual({
      ...call,
      remainingRequests: 59,
      remainingTokens: 149_982,
      requestsResetMillis: 1_000,
      tokensResetMillis: 360_000,
    });
  });

  it('reads the one-unit resets most replies carry, and still the compound ones', () => {
    const reset = (value: string) =>
      parseRateLimitHeaders(new Headers({ 'x-ratelimit-reset-requests': value }), call).requestsResetMillis;
    expect(reset('12ms')).toBe(12);
    expect(reset('1.5s')).toBe(1_500);
    expect(reset('0.0004s')).toBe(1);
    expect(reset('0s')).toBe(0);
    expect(reset('1m30.5s')).toBe(90_500);
    expect(reset('12 ms')).toBeUndefined();
  });

  it('reads Azure OpenAI headers: bare-second resets and a 429 retry-after-ms', () => {
    const azure = { provider: 'azure.ai.openai', model: 'gpt-4o' };
    const headers = new Headers({
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-remaining-tokens': '19913',
      'x-ratelimit-reset-requests': '10',
      'x-ratelimit-reset-tokens': '0.5',
      'retry-after': '1',
      'retry-after-ms': '850',
    });
    expect(parseRateLimitHeaders(headers, azure)).toEqual({
      ...azure,
      remainingRequests: 0,
      remainingTokens: 19_913,
      requestsResetMillis: 10_000,
      tokensResetMillis: 500,
      retryAfterMillis: 850,
    });
  });

  it('reads Anthropic headers with RFC 3339 resets', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    const feedback = parseRateLimitHeaders(
      {
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': '2026-11-23T10:00:30Z',
      },
      { provider: 'anthropic', model: 'claude-sonnet-4-5', tenant: 't1' },
      now,
    );
    expect(feedback).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      tenant: 't1',
      remainingRequests: 0,
      requestsResetMillis: 30_000,
    });
  });

  it('prefers retry-after-ms, then retry-after seconds or HTTP date', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(
      parseRateLimitHeaders({ 'retry-after-ms': '250', 'retry-after': '9' }, call, now).retryAfterMillis,
    ).toBe(250);
    expect(parseRateLimitHeaders({ 'Retry-After': '2' }, call, now).retryAfterMillis).toBe(2_000);
    expect(
      parseRateLimitHeaders({ 'retry-after': 'Mon, 23 Nov 2026 10:00:05 GMT' }, call, now).retryAfterMillis,
    ).toBe(5_000);
  });

  it('ignores malformed values instead of throwing', () => {
    expect(
      parseRateLimitHeaders(
        { 'x-ratelimit-remaining-requests': 'lots', 'x-ratelimit-reset-tokens': 'soon', 'retry-after': '-3' },
        call,
      ),
    ).toEqual(call);
  });
});

describe('parseDuration', () => {
  it('parses compound provider durations', () => {
    expect(parseDuration('12ms')).toBe(12);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('6 minutes')).toBeUndefined();
  });
});
