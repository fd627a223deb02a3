/*
 * Wrapping SDK methods next to other instrumentations. `InstrumentationBase._wrap` (Node) first
 * unwraps whatever wrapper already sits on a method, so two instrumentations that both use it on
 * the same method silently remove each other. These helpers stack instead: they never remove a
 * wrapper they did not make, and mark theirs the way shimmer does (`__wrapped`, `__original`,
 * `__unwrap`) so other tools still recognise a wrapped method.
 */

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
export type MethodHost = Record<PropertyKey, unknown>;

/** Shared by every copy of core (ESM and CommonJS builds) so each sees the others' wrappers. */
const OWNER = Symbol.for('tollgate.method-wrapper.owner');

interface TollgateWrapper extends AnyFunction {
  [OWNER]: string;
  __original: AnyFunction;
  __wrapped: true;
  __unwrap: () => void;
  /** Set by `unwrapMethod` when another wrapper sits above: the wrapper then calls straight through. */
  __inert?: boolean;
}

function define(target: object, name: PropertyKey, value: unknown, enumerable = false): void {
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable });
}

function isTollgateWrapper(value: unknown, owner: string): value is TollgateWrapper {
  return typeof value === 'function' && (value as Partial<TollgateWrapper>)[OWNER] === owner;
}

/**
 * Each owner's wrapper of each method, kept on the host: a plain wrapper stacked above ours (one
 * without shimmer's `__original`) hides it from a walk down the chain.
 */
const REGISTRY = Symbol.for('tollgate.method-wrapper.registry');

function registered(host: MethodHost, name: string, owner: string): TollgateWrapper | undefined {
  const registry = Object.hasOwn(host, REGISTRY)
    ? (host[REGISTRY] as Record<string, TollgateWrapper>)
    : undefined;
  return registry?.[`${owner}\0${name}`];
}

function register(host: MethodHost, name: string, owner: string, wrapper: TollgateWrapper | undefined): void {
  if (!Object.hasOwn(host, REGISTRY)) define(host, REGISTRY, {});
  const registry = host[REGISTRY] as Record<string, TollgateWrapper | undefined>;
  registry[`${owner}\0${name}`] = wrapper;
}

/** Our wrapper is still called when `host[name]` runs: on top, or somewhere below other wrappers. */
function isLive(host: MethodHost, name: string, wrapper: TollgateWrapper): boolean {
  if (wrapper.__inert) return false;
  let current: unknown = host[name];
  while (typeof current === 'function') {
    if (current === wrapper) return true;
    // The chain reaches what we wrapped without passing us: someone took us out (shimmer's unwrap).
    if (current === wrapper.__original) return false;
    const below = (current as { __original?: unknown }).__original;
    // A plain wrapper hides what it calls: ours may be under it, and is taken to be.
    if (below === undefined) return true;
    current = below;
  }
  return false;
}

/**
 * The object on `prototype`'s chain that defines `name` itself: wrapping there, not on a subclass,
 * leaves the chain as it was after unwrapping (e.g. `post` lives on the SDK's base client class).
 */
export function methodHost(prototype: object | undefined, name: string): MethodHost | undefined {
  let host: object | null | undefined = prototype;
  while (host && !Object.hasOwn(host, name)) host = Object.getPrototypeOf(host) as object | null;
  return host && typeof (host as MethodHost)[name] === 'function' ? (host as MethodHost) : undefined;
}

/**
 * Wraps `host[name]` with `makeWrapper(current)` unless a wrapper of `owner` is still called there
 * (on top, or under wrappers stacked since). A foreign wrapper already there is kept and called
 * from inside ours. Returns whether it wrapped.
 */
export function wrapMethod(
  host: MethodHost,
  name: string,
  owner: string,
  // `never` parameters: a wrapper may declare whatever `this` and arguments the wrapped method takes.
  makeWrapper: (original: AnyFunction) => (this: never, ...args: never[]) => unknown,
): boolean {
  const original = host[name];
  if (typeof original !== 'function' || isTollgateWrapper(original, owner)) return false;
  const existing = registered(host, name, owner);
  if (existing && isLive(host, name, existing)) return false;
  const inner = makeWrapper(original as AnyFunction) as AnyFunction;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return wrapper.__inert ? (original as AnyFunction).apply(this, args) : inner.apply(this, args);
  } as TollgateWrapper;
  define(wrapper, 'name', inner.name);
  define(wrapper, OWNER, owner);
  define(wrapper, '__original', original);
  define(wrapper, '__wrapped', true);
  define(wrapper, '__unwrap', () => {
    if (host[name] === wrapper)
      define(host, name, original, Object.prototype.propertyIsEnumerable.call(host, name));
  });
  define(host, name, wrapper, Object.prototype.propertyIsEnumerable.call(host, name));
  register(host, name, owner, wrapper);
  return true;
}

/**
 * Removes `owner`'s wrapper of `host[name]`. When another wrapper has been stacked above it since,
 * ours cannot be taken out of the chain, so it turns into a plain pass-through instead.
 */
export function unwrapMethod(host: MethodHost, name: string, owner: string): void {
  const wrapper = registered(host, name, owner);
  if (!wrapper) return;
  register(host, name, owner, undefined);
  if (host[name] === wrapper) wrapper.__unwrap();
  else wrapper.__inert = true;
}

/** Whether `host[name]` is wrapped (shimmer-style) by someone other than `owner`, anywhere in its chain. */
export function hasForeignWrapper(host: MethodHost | undefined, name: string, owner: string): boolean {
  let current: unknown = host?.[name];
  while (typeof current === 'function' && (current as { __wrapped?: boolean }).__wrapped) {
    if (!isTollgateWrapper(current, owner)) return true;
    current = (current as TollgateWrapper).__original;
  }
  return false;
}

/** Whether `owner`'s wrapper of `host[name]` is still called, on top or under others. */
export function hasOwnWrapper(host: MethodHost | undefined, name: string, owner: string): boolean {
  const wrapper = host ? registered(host, name, owner) : undefined;
  return wrapper !== undefined && isLive(host!, name, wrapper);
}
