import { describe, expect, it } from 'vitest';
import { classifyFailure } from './classify-failure';

describe('classifyFailure', () => {
  it("counts a caller's abort as a cancellation whatever shape the SDK gives it", () => {
    class APIUserAbortError extends Error {}
    // openai/Anthropic: a class of its own; AWS SDK: a plain Error named AbortError; fetch: a DOMException.
    expect(classifyFailure(new APIUserAbortError('aborted'))).toBe('cancelled');
    expect(classifyFailure(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))).toBe(
      'cancelled',
    );
    expect(classifyFailure(new DOMException('This operation was aborted', 'AbortError'))).toBe('cancelled');
  });

  it('counts a timeout, a 429 and a 5xx as the provider trouble they are, and a 4xx as the caller’s', () => {
    expect(classifyFailure(new DOMException('The operation timed out', 'TimeoutError'))).toBe('timeout');
    expect(classifyFailure(Object.assign(new Error('slow down'), { status: 429 }))).toBe('rate_limited');
    expect(classifyFailure(Object.assign(new Error('bad'), { status: 400 }))).toBe('client_error');
    expect(classifyFailure(Object.assign(new Error('down'), { status: 503 }))).toBe('server_error');
    // The Vercel AI SDK's APICallError names it statusCode.
    expect(classifyFailure(Object.assign(new Error('bad'), { statusCode: 400 }))).toBe('client_error');
    expect(classifyFailure(Object.assign(new Error('slow down'), { statusCode: 429 }))).toBe('rate_limited');
  });
});
