import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Guard } from '../guard/guard';
import type { APIPromiseConstructor } from '../telemetry/gated-api-promise';

/** Options every Tollgate instrumentation takes. */
export interface TollgateInstrumentationConfig extends InstrumentationConfig {
  /** The gate every call passes; from `createGuard()`. */
  guard: Guard;
  /** `gen_ai.provider.name` for calls through this SDK, and the provider budgets and rate limits match on. */
  providerName?: string;
}

/** How a provider-specific option is checked, and the value it takes when unset. */
export type OptionRule =
  | { type: 'boolean'; default?: boolean }
  | { type: 'string'; default?: string }
  | { oneOf: readonly string[]; default?: string };

/** A class of the SDK: its prototype holds the methods to wrap. */
export interface SdkClass {
  prototype: object;
}

/** What a provider package tells the kit about the SDK it instruments. */
export interface SdkDescription {
  /** The instrumentation's npm package: its tracer and meter name, and the owner of its wrappers. */
  packageName: string;
  packageVersion: string;
  /** The class users construct, as warnings name it: `OpenAIInstrumentation`. */
  className: string;
  /** The SDK's module, as the module hooks match it: `openai`. */
  moduleName: string;
  /** The client class's named export (also found as, or on, the ESM `default`): `OpenAI`. */
  clientExport: string;
  /** Supported SDK versions, as the README writes them: `>=5 <8`. */
  supportedRange: string;
  /** Whether an SDK `major.minor.patch` version is within `supportedRange`. */
  isSupportedVersion(version: string): boolean;
  /** Where errors name this instrumentation's options: `instrumentations.openai`. */
  configPath: string;
  /** Options beyond `guard`, `enabled` and `providerName`, checked when the config is set. */
  options?: Readonly<Record<string, OptionRule>>;
  /**
   * The SDK returns plain promises and has no `APIPromise` export (`@google/genai`): the client
   * class alone is looked for, and `LoadedSdk.APIPromise` is the global `Promise`. @default false
   */
  plainPromises?: boolean;
}

/** An SDK module as loaded, resolved to the parts every gate needs. */
export interface LoadedSdk<Client extends SdkClass> {
  /** The client class. */
  client: Client;
  /** The SDK's own `APIPromise` class, from the same copy of the SDK. */
  APIPromise: APIPromiseConstructor;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** One SDK method the instrumentation wraps. Patching wraps each; unpatching unwraps each. */
export interface SdkTarget {
  /** How warnings name it: `Messages.create`, `post`. */
  name: string;
  /** The prototype the method is looked up from; it is wrapped where it is defined on the chain. */
  prototype: object | undefined;
  method: string;
  /** Makes the wrapper, given the method it replaces. */
  wrap: (original: AnyFunction) => (this: never, ...args: never[]) => unknown;
  /** Without this method the SDK is not one the package knows: it warns and patches nothing. */
  required?: boolean;
}
