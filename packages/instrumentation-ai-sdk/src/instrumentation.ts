import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import {
  emitTollgateWarning,
  type LoadedSdk,
  type SdkDescription,
  type SdkTarget,
  TollgateInstrumentation,
  unwrapMethod,
  wrapMethod,
} from '@tollgate/core/instrumentation';
import type { ModelMethod, ProviderModule } from './internal-types';
import { type GateAccess, gatedModelMethod } from './model-hooks';
import { type CallRouting, callRouting } from './model-routing';
import {
  modelMethodHosts,
  PROVIDER_PACKAGES,
  type ProviderPackage,
  providerFactory,
} from './provider-packages';
import type { AiSdkInstrumentationConfig } from './types';

export const PACKAGE_NAME = '@tollgate/instrumentation-ai-sdk';
export const PACKAGE_VERSION = '0.1.0';

/**
 * Versions of `@ai-sdk/openai`, `@ai-sdk/anthropic` and `@ai-sdk/google` whose model classes this
 * package patches: 3.x (language model specification v3, `ai` 6) and 4.x (v4, `ai` 7). Others
 * get a warning and are left alone; `tollgateMiddleware()` gates any model of any version.
 */
export const SUPPORTED_AI_SDK_PROVIDER_RANGE = '>=3 <5';

/** Whether `version` (`major.minor.patch`, prerelease allowed) falls within {@link SUPPORTED_AI_SDK_PROVIDER_RANGE}. */
export function isSupportedAiSdkProviderVersion(version: string): boolean {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  return major === 3 || major === 4;
}

/** The provider packages' npm names, for `register()` to patch copies loaded before it ran. */
export const AI_SDK_PROVIDER_PACKAGES: readonly string[] = PROVIDER_PACKAGES.map((pkg) => pkg.moduleName);

const MODELS_PATH = 'instrumentations.aiSdk.models';

function routingOf(config: AiSdkInstrumentationConfig | undefined): CallRouting {
  return callRouting(config?.providerName, config?.models, MODELS_PATH);
}

const AI_SDK: SdkDescription = {
  packageName: PACKAGE_NAME,
  packageVersion: PACKAGE_VERSION,
  className: 'AiSdkInstrumentation',
  moduleName: '@ai-sdk/openai, @ai-sdk/anthropic and @ai-sdk/google',
  clientExport: 'createOpenAI',
  supportedRange: SUPPORTED_AI_SDK_PROVIDER_RANGE,
  isSupportedVersion: isSupportedAiSdkProviderVersion,
  configPath: 'instrumentations.aiSdk',
  plainPromises: true,
};

/**
 * Gates, traces and costs every Vercel AI SDK call made with a model of `@ai-sdk/openai`,
 * `@ai-sdk/anthropic` or `@ai-sdk/google` (CommonJS and ESM): `generateText`, `streamText`,
 * `generateObject`, `streamObject`, each step of a tool loop, and `embed` / `embedMany`.
 *
 * The model classes are not exported; at load, a throwaway model of each is built from the
 * package's provider factory (nothing is sent) and `doGenerate`, `doStream` and `doEmbed` are
 * wrapped on its prototype, which every model of that class shares. Each call passes the gate
 * before its request is built and settles from the `usage` the model reports. Models of other
 * providers are gated with `tollgateMiddleware()`.
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new AiSdkInstrumentation({ guard })] });
 * ```
 */
export class AiSdkInstrumentation extends TollgateInstrumentation<AiSdkInstrumentationConfig> {
  /** Read from the config when it is set; unset until then (the base constructor sets it before this class's fields exist). */
  private routing: CallRouting = callRouting(undefined, undefined, MODELS_PATH);

  constructor(config: AiSdkInstrumentationConfig) {
    super(AI_SDK, config);
    this.routing = routingOf(this.getConfig());
  }

  /** Also checks `models` (a `TollgateConfigError` names the entry), then applies it from the next call on. */
  override setConfig(config: AiSdkInstrumentationConfig): void {
    const routing = routingOf(config);
    super.setConfig(config);
    this.routing = routing;
  }

  /** One module definition per provider package (the base class knows one module). */
  protected override init() {
    return PROVIDER_PACKAGES.map(
      (pkg) =>
        new InstrumentationNodeModuleDefinition(
          pkg.moduleName,
          ['*'],
          (moduleExports: ProviderModule, moduleVersion?: string) =>
            this.patchPackage(pkg, moduleExports, moduleVersion),
          (moduleExports: ProviderModule) => this.unpatchPackage(pkg, moduleExports),
        ),
    );
  }

  /** Targets come from each provider package's throwaway models, not from one client class. */
  protected override targets(_sdk: LoadedSdk<never>): SdkTarget[] {
    return [];
  }

  /**
   * Patches a provider package you loaded yourself — for bundled apps, where module hooks never
   * see it: `instrument(await import('@ai-sdk/openai'))`.
   */
  override instrument(moduleExports: unknown): void {
    for (const pkg of this.packagesOf(moduleExports)) this.patchPackage(pkg, moduleExports as ProviderModule);
  }

  /** Reverses `instrument()`. */
  override uninstrument(moduleExports: unknown): void {
    for (const pkg of this.packagesOf(moduleExports))
      this.unpatchPackage(pkg, moduleExports as ProviderModule);
  }

  private packagesOf(moduleExports: unknown): ProviderPackage[] {
    if (typeof moduleExports !== 'object' || moduleExports === null) return [];
    return PROVIDER_PACKAGES.filter(
      (pkg) => typeof providerFactory(pkg, moduleExports as ProviderModule) === 'function',
    );
  }

  private patchPackage(
    pkg: ProviderPackage,
    moduleExports: ProviderModule,
    moduleVersion?: string,
  ): ProviderModule {
    if (moduleVersion !== undefined && !isSupportedAiSdkProviderVersion(moduleVersion)) {
      emitTollgateWarning(
        'TOLLGATE_UNSUPPORTED_SDK_VERSION',
        `${PACKAGE_NAME}: ${pkg.moduleName} ${moduleVersion} is outside the supported range ${SUPPORTED_AI_SDK_PROVIDER_RANGE}; its models are NOT gated (wrap them with tollgateMiddleware()).`,
      );
      return moduleExports;
    }
    const hosts = modelMethodHosts(pkg, providerFactory(pkg, moduleExports));
    if (!hosts.some((host) => host.kind === 'language')) {
      emitTollgateWarning(
        'TOLLGATE_SDK_NOT_RECOGNISED',
        `${PACKAGE_NAME}: the ${pkg.moduleName} module does not look as expected (no ${pkg.factoryExport}() building models with doGenerate/doStream); its models are NOT gated.`,
      );
      return moduleExports;
    }
    const access: GateAccess = { gate: () => this.gate(), routing: () => this.routing };
    for (const { host, method, kind } of hosts) {
      wrapMethod(
        host,
        method,
        PACKAGE_NAME,
        (original) =>
          gatedModelMethod(kind, method, original as ModelMethod<Record<string, unknown>>, access) as never,
      );
    }
    return moduleExports;
  }

  private unpatchPackage(pkg: ProviderPackage, moduleExports: ProviderModule): void {
    for (const { host, method } of modelMethodHosts(pkg, providerFactory(pkg, moduleExports))) {
      unwrapMethod(host, method, PACKAGE_NAME);
    }
  }
}
