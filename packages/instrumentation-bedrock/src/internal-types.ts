import type { MethodHost } from '@tollgate/core/instrumentation';

/*
 * The few parts of @aws-sdk/client-bedrock-runtime (and the @smithy/core client under it) this
 * package touches, typed structurally so the SDK's own types never leak into its declarations.
 */

/** A smithy middleware: wraps the next handler of its step. */
export type Middleware = (
  next: (args: MiddlewareArgs) => Promise<MiddlewareResult>,
) => (args: MiddlewareArgs) => Promise<MiddlewareResult>;

/** What a middleware is given: the command's input, and from the serialize step on, the HTTP request. */
export interface MiddlewareArgs {
  input: unknown;
  request?: unknown;
}

/** What the deserialize step hands back: the raw HTTP response and the parsed output. */
export interface MiddlewareResult {
  response: unknown;
  output: unknown;
}

/** A command's or client's middleware stack. */
export interface MiddlewareStackLike {
  clone(): MiddlewareStackLike;
  add(
    middleware: Middleware,
    options: { step: 'deserialize'; name: string; priority?: 'high' | 'normal' | 'low'; override?: boolean },
  ): void;
}

/**
 * A command as `send()` receives it. `schema` is the operation schema
 * (`[9, namespace, operationName, traits, input, output]`): it names the operation however the
 * command class is exported or bundled.
 */
export interface CommandLike {
  input: Record<string, unknown>;
  middlewareStack: MiddlewareStackLike;
  schema?: unknown;
}

/** Resolved client config: endpoint and region are async providers once the client is built. */
export interface ClientConfigLike {
  endpoint?: () => Promise<{ hostname?: string; port?: number; protocol?: string }>;
  region?: () => Promise<string>;
}

/** The client as `send()` sees it (`this`). */
export interface ClientLike {
  config?: ClientConfigLike;
}

/** The client class: its prototype chain holds `send()` (on @smithy/core's `Client`). */
export interface BedrockClientClass {
  prototype: MethodHost;
}

/** `send(command, options?, callback?)`, as @smithy/core's `Client` defines it. */
export type SendMethod = (this: ClientLike, command: unknown, optionsOrCb?: unknown, cb?: unknown) => unknown;

/** The send options a gated call reads: the caller's abort signal. */
export interface SendOptions {
  abortSignal?: AbortSignal;
}
