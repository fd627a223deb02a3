import { diag } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { CallGate, observeAttempts } from '@tollgate/core';
import { deferredHelperSpan, gatedCreate } from './gated-create';
import type {
  AnthropicClass,
  AnthropicModuleExports,
  APIPromiseConstructor,
  MethodHost,
} from './internal-types';
import type { AnthropicInstrumentationConfig, SdkSpanMode } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-anthropic';
const PACKAGE_VERSION = '0.1.0';
/**
 * `@anthropic-ai/sdk` versions this package supports; others get a warning and are left alone.
 * From 0.50 on, the SDK has the layout this package patches: `APIPromise(client, responsePromise,
 * parseResponse)`, `Stream.iterator`, `fetchWithTimeout` on the client class, `Messages` and
 * `Beta.Messages` hanging off it.
 */
export const SUPPORTED_ANTHROPIC_RANGE = '>=0.50 <2';

/** Whether `version` (`major.minor.patch`, prerelease allowed) falls within {@link SUPPORTED_ANTHROPIC_RANGE}. */
export function isSupportedAnthropicVersion(version: string): boolean {
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) return false;
  return (major === 0 && minor >= 50) || major === 1;
}

const SDK_SPAN_MODES: readonly SdkSpanMode[] = ['nest', 'suppress'];

type Target = {
  host: () => MethodHost | undefined;
  method: string;
  kind: 'create' | 'stream';
};

function targets(Anthropic: AnthropicClass): Target[] {
  return [
    { host: () => Anthropic.Messages?.prototype, method: 'create', kind: 'create' },
    { host: () => Anthropic.Messages?.prototype, method: 'stream', kind: 'stream' },
    { host: () => Anthropic.Beta?.Messages?.prototype, method: 'create', kind: 'create' },
    { host: () => Anthropic.Beta?.Messages?.prototype, method: 'stream', kind: 'stream' },
  ];
}

/**
 * Gates, traces and costs every Messages call made with `@anthropic-ai/sdk` (CommonJS and ESM):
 * `messages.create()` and `beta.messages.create()`, and through them `stream()`, `parse()` and
 * the tool runners.
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new AnthropicInstrumentation({ guard })] });
 * ```
 */
export class AnthropicInstrumentation extends InstrumentationBase<AnthropicInstrumentationConfig> {
  private callGate: CallGate | undefined;

  constructor(config: AnthropicInstrumentationConfig) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  /** Also called by the base constructor: every config passes through `normalizeConfig`. */
  override setConfig(config: AnthropicInstrumentationConfig): void {
    super.setConfig(normalizeConfig(config));
    this.callGate = undefined;
  }

  protected override init() {
    // Every version is matched so an unsupported one is reported, never skipped in silence.
    return [
      new InstrumentationNodeModuleDefinition(
        '@anthropic-ai/sdk',
        ['*'],
        (moduleExports: AnthropicModuleExports, moduleVersion?: string) =>
          this.patch(moduleExports, moduleVersion),
        (moduleExports: AnthropicModuleExports) => this.unpatch(moduleExports),
      ),
    ];
  }

  /**
   * Patches an `@anthropic-ai/sdk` module you loaded yourself — for bundled apps, where module
   * hooks never see the SDK. Pass the module namespace: `instrument(await import('@anthropic-ai/sdk'))`.
   */
  instrument(moduleExports: unknown): void {
    this.patch(moduleExports as AnthropicModuleExports, undefined);
  }

  /** Reverses `instrument()`. */
  uninstrument(moduleExports: unknown): void {
    this.unpatch(moduleExports as AnthropicModuleExports);
  }

  private gate(): CallGate | undefined {
    if (!this.isEnabled()) return undefined;
    const { guard } = this.getConfig();
    if (!guard) return undefined;
    this.callGate ??= new CallGate(guard, this.tracer, this.meter);
    return this.callGate;
  }

  private patch(
    moduleExports: AnthropicModuleExports,
    moduleVersion: string | undefined,
  ): AnthropicModuleExports {
    if (moduleVersion !== undefined && !isSupportedAnthropicVersion(moduleVersion)) {
      diag.warn(
        `${PACKAGE_NAME}: @anthropic-ai/sdk ${moduleVersion} is outside the supported range ${SUPPORTED_ANTHROPIC_RANGE}; its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const Anthropic = resolveClient(moduleExports);
    const APIPromise = resolveAPIPromise(moduleExports);
    if (!Anthropic || !APIPromise) {
      diag.warn(
        `${PACKAGE_NAME}: the @anthropic-ai/sdk module does not look as expected (no Anthropic or APIPromise export); its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const gate = () => this.gate();
    for (const target of targets(Anthropic)) {
      const host = target.host();
      if (!host || typeof host[target.method] !== 'function') continue;
      if (isWrapped(host[target.method])) continue;
      this._wrap(host, target.method, (original: unknown) =>
        target.kind === 'create'
          ? (gatedCreate(original as never, gate, () => this.getConfig(), APIPromise) as never)
          : (deferredHelperSpan(original as never, gate) as never),
      );
    }
    const requestHost = fetchHost(Anthropic);
    if (requestHost && !isWrapped(requestHost.fetchWithTimeout)) {
      this._wrap(requestHost, 'fetchWithTimeout', observeAttempts as never);
    }
    return moduleExports;
  }

  private unpatch(moduleExports: AnthropicModuleExports): void {
    const Anthropic = resolveClient(moduleExports);
    if (!Anthropic) return;
    for (const target of targets(Anthropic)) {
      const host = target.host();
      if (host && isWrapped(host[target.method])) this._unwrap(host, target.method);
    }
    const requestHost = fetchHost(Anthropic);
    if (requestHost && isWrapped(requestHost.fetchWithTimeout)) this._unwrap(requestHost, 'fetchWithTimeout');
  }
}

/** Defaults and validation in one place. A bad option is reported and replaced, never thrown at a call. */
function normalizeConfig(config: AnthropicInstrumentationConfig): AnthropicInstrumentationConfig {
  const normalized = { ...config, sdkSpans: config.sdkSpans ?? 'nest' };
  if (!SDK_SPAN_MODES.includes(normalized.sdkSpans)) {
    diag.warn(
      `${PACKAGE_NAME}: sdkSpans must be one of ${SDK_SPAN_MODES.join(', ')}; got ${String(normalized.sdkSpans)}, using 'nest'.`,
    );
    normalized.sdkSpans = 'nest';
  }
  return normalized;
}

function resolveClient(moduleExports: AnthropicModuleExports): AnthropicClass | undefined {
  const fromDefault = moduleExports.default;
  return (
    moduleExports.Anthropic ??
    (typeof fromDefault === 'function'
      ? (fromDefault as AnthropicClass)
      : (fromDefault as { Anthropic?: AnthropicClass } | undefined)?.Anthropic)
  );
}

function resolveAPIPromise(moduleExports: AnthropicModuleExports): APIPromiseConstructor | undefined {
  const fromDefault = moduleExports.default as { APIPromise?: APIPromiseConstructor } | undefined;
  return moduleExports.APIPromise ?? fromDefault?.APIPromise;
}

/**
 * The prototype that defines `fetchWithTimeout`: the SDK's base client class (`BaseAnthropic`),
 * which `Anthropic` inherits it from. Wrapping it there, not on a subclass, leaves the prototype
 * chain as it was after unwrapping.
 */
function fetchHost(Anthropic: AnthropicClass): MethodHost | undefined {
  let host: MethodHost | null = Anthropic.prototype;
  while (host && !Object.hasOwn(host, 'fetchWithTimeout'))
    host = Object.getPrototypeOf(host) as MethodHost | null;
  return host && typeof host.fetchWithTimeout === 'function' ? host : undefined;
}
