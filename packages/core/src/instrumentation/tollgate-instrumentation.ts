import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { observeAttempts, replayAttempts } from '../telemetry/active-call';
import { CallGate } from '../telemetry/call-gate';
import type { APIPromiseConstructor } from '../telemetry/gated-api-promise';
import { type MethodHost, methodHost, unwrapMethod, wrapMethod } from '../telemetry/method-wrapper';
import { emitTollgateWarning } from '../telemetry/process-warning';
import { readInstrumentationConfig } from './read-instrumentation-config';
import type {
  LoadedSdk,
  SdkClass,
  SdkDescription,
  SdkTarget,
  TollgateInstrumentationConfig,
} from './sdk-description';

/** What a module load of the SDK exposes: CommonJS exports or an ESM namespace. */
type ModuleExports = Record<string, unknown>;

/**
 * `InstrumentationBase` calls `init()` and `setConfig()` from its constructor, before a subclass's
 * fields exist: each class's SDK description is kept here, keyed by the class being constructed.
 */
const SDKS = new WeakMap<object, SdkDescription>();

/**
 * The scaffolding every Tollgate instrumentation shares: config checks, the call gate's lifecycle
 * (made on first use, remade when the config, tracer or meter provider changes), one module hook
 * that warns outside the supported versions, patching and unpatching the target table as mirror
 * images (CommonJS exports and the ESM `default` alike), the per-attempt fetch wrap that feeds
 * rate-limit headers back, and `instrument()` for SDKs the hooks never see. A provider package
 * adds its target table, request shapes and result observers.
 *
 * @example
 * ```ts
 * class FooInstrumentation extends TollgateInstrumentation<FooConfig, FooClient> {
 *   constructor(config: FooConfig) { super(FOO_SDK, config); }
 *   protected override targets({ client, APIPromise }: LoadedSdk<FooClient>): SdkTarget[] {
 *     return [{ name: 'post', prototype: client.prototype, method: 'post', required: true,
 *       wrap: (original) => gatedPost(original, () => this.gate(), APIPromise) }];
 *   }
 * }
 * ```
 */
export abstract class TollgateInstrumentation<
  Config extends TollgateInstrumentationConfig,
  Client extends SdkClass = SdkClass,
> extends InstrumentationBase<Config> {
  private callGate: CallGate | undefined;
  /** Whether the SDK's requests pass a hook where a response cache hit is replayed. */
  private fetchHooked = false;
  /** Request functions hooked late (`hookRequests`), unhooked with the SDK. */
  private readonly lateHooks = new Map<MethodHost, string>();

  constructor(sdk: SdkDescription, config: Config) {
    SDKS.set(new.target, sdk);
    super(sdk.packageName, sdk.packageVersion, config);
  }

  /** The description this instrumentation was constructed with. */
  protected get sdk(): SdkDescription {
    return SDKS.get(this.constructor)!;
  }

  /** The SDK methods to wrap, given the loaded SDK. */
  protected abstract targets(sdk: LoadedSdk<Client>): readonly SdkTarget[];

  /** Runs after a successful patch (e.g. to look for other instrumentations on the same methods). */
  protected patched(_sdk: LoadedSdk<Client>): void {}

  /**
   * Checks the config (a bad option throws `TollgateConfigError`, naming its path) and applies it
   * from the next call on. Without a guard nothing is gated: said at once, not at the first call.
   */
  override setConfig(config: Config): void {
    const sdk = this.sdk;
    super.setConfig(readInstrumentationConfig<Config>(config, sdk));
    this.callGate = undefined;
    if (!this.getConfig().guard) {
      emitTollgateWarning(
        'TOLLGATE_NO_GUARD',
        `${sdk.packageName}: ${sdk.className} was given no guard (config.guard from createGuard()); ${sdk.moduleName} calls are NOT gated.`,
      );
    }
  }

  /** Takes effect for the next call, even after calls were made with the previous provider. */
  override setTracerProvider(tracerProvider: TracerProvider): void {
    super.setTracerProvider(tracerProvider);
    this.callGate = undefined;
  }

  /** Takes effect for the next call, even after calls were made with the previous provider. */
  override setMeterProvider(meterProvider: MeterProvider): void {
    super.setMeterProvider(meterProvider);
    this.callGate = undefined;
  }

  protected override init() {
    // Every version is matched so an unsupported one is reported, never skipped in silence.
    return [
      new InstrumentationNodeModuleDefinition(
        this.sdk.moduleName,
        ['*'],
        (moduleExports: ModuleExports, moduleVersion?: string) => this.patch(moduleExports, moduleVersion),
        (moduleExports: ModuleExports) => this.unpatch(moduleExports),
      ),
    ];
  }

  /**
   * Patches an SDK module you loaded yourself — for bundled apps, where module hooks never see
   * the SDK. Pass the module namespace: `instrument(await import('openai'))`.
   */
  instrument(moduleExports: unknown): void {
    this.patch(moduleExports as ModuleExports, undefined);
  }

  /** Reverses `instrument()`. */
  uninstrument(moduleExports: unknown): void {
    this.unpatch(moduleExports as ModuleExports);
  }

  /** The gate calls pass while enabled with a guard; undefined lets them through untouched. */
  protected gate(): CallGate | undefined {
    if (!this.isEnabled()) return undefined;
    const { guard } = this.getConfig();
    if (!guard) return undefined;
    this.callGate ??= new CallGate(guard, this.tracer, this.meter, () => this.fetchHooked);
    return this.callGate;
  }

  /** Declares that this SDK's requests replay response cache hits themselves (in an SDK middleware, say). */
  protected replaysCachedReplies(): void {
    this.fetchHooked = true;
  }

  /**
   * Hooks an SDK request function that resolves to the HTTP response and is only reachable from
   * a client instance (`@google/genai`'s `ApiClient.prototype.apiCall`), so the response cache
   * can replay hits and record misses there. Once per host; undone with the SDK's unpatch.
   */
  protected hookRequests(prototype: object | undefined, method: string): void {
    const host = methodHost(prototype, method);
    if (!host || this.lateHooks.has(host)) return;
    wrapMethod(host, method, this.sdk.packageName, replayAttempts as never);
    this.lateHooks.set(host, method);
    this.fetchHooked = true;
  }

  private patch(moduleExports: ModuleExports, moduleVersion: string | undefined): ModuleExports {
    const sdk = this.sdk;
    if (moduleVersion !== undefined && !sdk.isSupportedVersion(moduleVersion)) {
      emitTollgateWarning(
        'TOLLGATE_UNSUPPORTED_SDK_VERSION',
        `${sdk.packageName}: ${sdk.moduleName} ${moduleVersion} is outside the supported range ${sdk.supportedRange}; its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const loaded = this.load(moduleExports);
    const targets = loaded ? this.targets(loaded) : [];
    const hosts = targets.map((target) => methodHost(target.prototype, target.method));
    const missing = targets.filter((target, index) => target.required && !hosts[index]);
    if (!loaded || missing.length > 0) {
      const problem = loaded
        ? `no ${missing.map((target) => `${target.name}()`).join(', ')} on the ${sdk.clientExport} client`
        : `no ${sdk.clientExport} client class or no APIPromise export`;
      emitTollgateWarning(
        'TOLLGATE_SDK_NOT_RECOGNISED',
        `${sdk.packageName}: the ${sdk.moduleName} module does not look as expected (${problem}); its calls are NOT gated.`,
      );
      return moduleExports;
    }
    targets.forEach((target, index) => {
      const host = hosts[index];
      if (host) wrapMethod(host, target.method, sdk.packageName, target.wrap);
    });
    // Each HTTP attempt (the SDKs retry inside one call) is counted, its rate-limit headers fed back.
    const fetchHost = methodHost(loaded.client.prototype, 'fetchWithTimeout');
    if (fetchHost) wrapMethod(fetchHost, 'fetchWithTimeout', sdk.packageName, observeAttempts as never);
    if (fetchHost) this.fetchHooked = true;
    this.patched(loaded);
    return moduleExports;
  }

  private unpatch(moduleExports: ModuleExports): void {
    const loaded = this.load(moduleExports);
    if (!loaded) return;
    const owner = this.sdk.packageName;
    for (const target of this.targets(loaded)) {
      const host = methodHost(target.prototype, target.method);
      if (host) unwrapMethod(host, target.method, owner);
    }
    const fetchHost = methodHost(loaded.client.prototype, 'fetchWithTimeout');
    if (fetchHost) unwrapMethod(fetchHost, 'fetchWithTimeout', owner);
    for (const [host, method] of this.lateHooks) unwrapMethod(host, method, owner);
    this.lateHooks.clear();
  }

  /** The client class and `APIPromise`, as named exports or on the ESM `default` (the class itself, or an object holding it). */
  private load(moduleExports: ModuleExports): LoadedSdk<Client> | undefined {
    const fromDefault = moduleExports.default as (SdkClass & ModuleExports) | ModuleExports | undefined;
    const client = (moduleExports[this.sdk.clientExport] ??
      (typeof fromDefault === 'function' ? fromDefault : fromDefault?.[this.sdk.clientExport])) as
      | Client
      | undefined;
    const APIPromise = (moduleExports.APIPromise ??
      fromDefault?.APIPromise ??
      (this.sdk.plainPromises ? Promise : undefined)) as APIPromiseConstructor | undefined;
    return client && APIPromise ? { client, APIPromise } : undefined;
  }
}
