import { describe, expect, it } from 'vitest';
import { endpointOf } from './endpoint';

describe('endpointOf', () => {
  it('reads host and port, with the scheme default when the URL names none', () => {
    expect(endpointOf('https://api.openai.com/v1')).toEqual({ address: 'api.openai.com', port: 443 });
    expect(endpointOf('http://127.0.0.1:4141/v1')).toEqual({ address: '127.0.0.1', port: 4141 });
    expect(endpointOf('http://localhost')).toEqual({ address: 'localhost', port: 80 });
  });

  it('gives an IPv6 literal without its brackets', () => {
    expect(endpointOf('http://[::1]:8080')).toEqual({ address: '::1', port: 8080 });
  });

  it('knows nothing of a missing or unparsable URL', () => {
    expect(endpointOf(undefined)).toEqual({});
    expect(endpointOf('not a url')).toEqual({});
  });

  it('returns the same object for the same URL', () => {
    expect(endpointOf('https://api.anthropic.com')).toBe(endpointOf('https://api.anthropic.com'));
  });
});
