import { describe, expect, it } from 'vitest';
import { formatGoDuration, RateLimitWindows } from './rate-limit-window';

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [12, '12ms'],
    [999.6, '1s'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [360_000, '6m0s'],
    [3_723_500, '1h2m3.5s'],
  ])('%d ms is %s', (millis, text) => {
    expect(formatGoDuration(millis)).toBe(text);
  });
});

describe('RateLimitWindows', () => {
  const knobs = { limitRequests: 60, limitTokens: 600, enforce: true };

  it('counts down and refills continuously', () => {
    const windows = new RateLimitWindows();
    const first = windows.consume(knobs, 'openai', 'm', 100, 0);
    const second = windows.consume(knobs, 'openai', 'm', 100, 0);
    expect([first.remainingRequests, second.remainingRequests]).toEqual([59, 58]);
    expect([first.remainingTokens, second.remainingTokens]).toEqual([500, 400]);
    expect(second.resetTokensMillis).toBe(20_000);

    // 10 s later a sixth of each limit has drained back.
    const later = windows.consume(knobs, 'openai', 'm', 0, 10_000);
    expect(later.remainingRequests).toBe(59);
    expect(later.remainingTokens).toBe(500);
  });

  it('keeps models apart', () => {
    const windows = new RateLimitWindows();
    windows.consume(knobs, 'openai', 'a', 300, 0);
    expect(windows.consume(knobs, 'openai', 'b', 0, 0).remainingTokens).toBe(600);
  });

  it('refuses what does not fit and says when it will', () => {
    const windows = new RateLimitWindows();
    windows.consume(knobs, 'anthropic', 'm', 550, 0);
    const refused = windows.consume(knobs, 'anthropic', 'm', 100, 0);
    expect(refused).toMatchObject({
      admitted: false,
      exceeded: 'tokens',
      retryAfterMillis: 5_000,
      remainingTokens: 50,
    });
    expect(windows.consume(knobs, 'anthropic', 'm', 100, 5_000).admitted).toBe(true);
  });
});
