import { describe, expect, it, vi } from 'vitest';
import { currentScope, withScope } from './with-scope';

describe('withScope', () => {
  it('follows the call across awaits and merges nested scopes', async () => {
    const seen = await withScope({ tenant: 'acme', feature: 'search' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return withScope({ user: 'u1', feature: 'summarise' }, async () => {
        await Promise.resolve();
        return currentScope();
      });
    });
    expect(seen).toEqual({ tenant: 'acme', user: 'u1', feature: 'summarise' });
  });

  it('keeps concurrent scopes apart and is empty outside', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c'].map((tenant) =>
        withScope({ tenant }, async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          return currentScope().tenant;
        }),
      ),
    );
    expect(results).toEqual(['a', 'b', 'c']);
    expect(currentScope()).toEqual({});
  });

  it('lets an inner scope leave fields unset without clearing them', () => {
    withScope({ tenant: 'acme' }, () => {
      withScope({ tenant: undefined, priority: 'background' }, () => {
        expect(currentScope()).toEqual({ tenant: 'acme', priority: 'background' });
      });
    });
  });
});

describe('withScope across copies of core', () => {
  it('a scope set through one loaded copy is seen by another (ESM and CommonJS builds in one process)', async () => {
    const first = await import('./with-scope');
    vi.resetModules();
    const second = await import('./with-scope');
    expect(second.withScope).not.toBe(first.withScope); // two evaluations of the module, as with a dual package

    const seen = await first.withScope({ tenant: 'acme' }, async () => {
      await Promise.resolve();
      return second.currentScope();
    });
    expect(seen).toEqual({ tenant: 'acme' });
  });
});
