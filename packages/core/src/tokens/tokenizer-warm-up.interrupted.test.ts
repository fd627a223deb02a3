import { describe, expect, it } from 'vitest';
import { isEncoderLoaded, loadEncoder, warmEncoder } from './encoder-loading';

// Its own file, so its own module registry: nothing is built when it starts.
describe('a synchronous load during a background build', () => {
  it('finishes the build under way, and the warm-up resolves with that same encoder', async () => {
    const warming = warmEncoder('cl100k_base', true);
    // One build per encoding: starting it again joins the one under way.
    expect(warmEncoder('cl100k_base', false)).toBe(warming);
    // Let the first slices run (rank file loaded, some ranks parsed).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(isEncoderLoaded('cl100k_base')).toBe(false);
    const encoder = loadEncoder('cl100k_base');
    expect(encoder.ranks.size).toBe(100_256);
    expect(encoder.ranks.get('hello')).toBe(15339);
    expect(await warming).toBe(encoder);
  });
});
