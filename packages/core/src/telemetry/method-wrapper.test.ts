import { InstrumentationBase, isWrapped } from '@opentelemetry/instrumentation';
import { describe, expect, it } from 'vitest';
import { hasForeignWrapper, hasOwnWrapper, methodHost, unwrapMethod, wrapMethod } from './method-wrapper';

const OWNER = '@tollgate/test';

/** An instrumentation that wraps the way the OpenTelemetry ecosystem's do: `InstrumentationBase._wrap`. */
class Peer extends InstrumentationBase {
  constructor() {
    super('peer', '1.0.0', { enabled: false });
  }
  protected override init() {
    return [];
  }
  wrap(host: object, name: string, tag: string, calls: string[]) {
    this._wrap(
      host as never,
      name as never,
      ((original: (...args: unknown[]) => unknown) =>
        function (this: unknown, ...args: unknown[]) {
          calls.push(tag);
          return original.apply(this, args);
        }) as never,
    );
  }
}

function fixture() {
  const calls: string[] = [];
  class Base {
    post(path: string) {
      calls.push('original');
      return path;
    }
  }
  class Client extends Base {}
  const host = methodHost(Client.prototype, 'post')!;
  const ours = (original: (...args: unknown[]) => unknown) =>
    function post(this: unknown, ...args: unknown[]) {
      calls.push('tollgate');
      return original.apply(this, args);
    };
  return { calls, Base, Client, host, ours };
}

describe('wrapMethod', () => {
  it('wraps where the method is defined, once per owner, recognisable as wrapped', () => {
    const { calls, Base, Client, host, ours } = fixture();
    expect(host).toBe(Base.prototype);
    expect(wrapMethod(host, 'post', OWNER, ours)).toBe(true);
    expect(wrapMethod(host, 'post', OWNER, ours)).toBe(false);
    expect(isWrapped(Base.prototype.post)).toBe(true);
    expect(new Client().post('/x')).toBe('/x');
    expect(calls).toEqual(['tollgate', 'original']);
    expect(hasOwnWrapper(host, 'post', OWNER)).toBe(true);
    expect(hasForeignWrapper(host, 'post', OWNER)).toBe(false);
  });

  it("stacks over another instrumentation's wrapper without removing it, and unwraps to it", () => {
    const { calls, Client, host, ours } = fixture();
    const peer = new Peer();
    peer.wrap(host, 'post', 'peer', calls);
    const theirs = host.post;
    wrapMethod(host, 'post', OWNER, ours);
    new Client().post('/x');
    expect(calls).toEqual(['tollgate', 'peer', 'original']);
    expect(hasForeignWrapper(host, 'post', OWNER)).toBe(true);
    unwrapMethod(host, 'post', OWNER);
    expect(host.post).toBe(theirs);
  });

  it("is taken off by another instrumentation's _wrap, as shimmer's own wrappers are", () => {
    const { calls, Client, host, ours } = fixture();
    wrapMethod(host, 'post', OWNER, ours);
    new Peer().wrap(host, 'post', 'peer', calls);
    new Client().post('/x');
    expect(calls).toEqual(['peer', 'original']);
    expect(hasOwnWrapper(host, 'post', OWNER)).toBe(false);
  });

  it('turns into a pass-through when unwrapped from under a plain wrapper', () => {
    const { calls, Client, host, ours } = fixture();
    wrapMethod(host, 'post', OWNER, ours);
    const below = host.post as (...args: unknown[]) => unknown;
    host.post = function post(this: unknown, ...args: unknown[]) {
      calls.push('user');
      return below.apply(this, args);
    };
    unwrapMethod(host, 'post', OWNER);
    new Client().post('/x');
    expect(calls).toEqual(['user', 'original']);
  });
});
