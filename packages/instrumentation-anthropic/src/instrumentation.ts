import { diag, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import {
  CallGate,
  emitTollgateWarning,
  hasForeignWrapper,
  hasOwnWrapper,
  methodHost,
  observeAttempts,
  unwrapMethod,
  wrapMethod,
} from '@tollgate/core';
import { deferredHelperSpan, gatedCreate } from './gated-create';
import { gatedPost } from './gated-post';
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
  resource: string;
  host: () => MethodHost | undefined;
  method: string;
  kind: 'create' | 'stream';
};

function targets(Anthropic: AnthropicClass): Target[] {
  return [
    { resource: 'Messages', host: () => Anthropic.Messages?.prototype, method: 'create', kind: 'create' },
    { resource: 'Messages', host: () => Anthropic.Messages?.prototype, method: 'stream', kind: 'stream' },
    {
      resource: 'Beta.Messages',
      host: () => Anthropic.Beta?.Messages?.prototype,
      method: 'create',
      kind: 'create',
    },
    {
      resource: 'Beta.Messages',
      host: () => Anthropic.Beta?.Messages?.prototype,
      method: 'stream',
      kind: 'stream',
    },
  ];
}

/** What to tell a user who has another instrumentation on `create()` about the double record. */
const TURN_ONE_OFF =
  "To keep only Tollgate's span, turn the other instrumentation off; the SDK's own span is off with " +
  "sdkSpans: 'suppress', or for the whole client with new Anthropic({ openTelemetry: false }) / ANTHROPIC_OPEN_TELEMETRY=false.";

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
  /** Another instrumentation's removal of the create() wrapper has been reported: calls stop looking. */
  private createWrapperLossNoticed = false;

  constructor(config: AnthropicInstrumentationConfig) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  /** Also called by the base constructor: every config passes through `normalizeConfig`. */
  override setConfig(config: AnthropicInstrumentationConfig): void {
    super.setConfig(normalizeConfig(config));
    this.callGate = undefined;
    // Without a guard nothing is gated: said at once, not at the first call.
    if (!config?.guard) {
      emitTollgateWarning(
        'TOLLGATE_NO_GUARD',
        `${PACKAGE_NAME}: AnthropicInstrumentation was given no guard (config.guard from createGuard()); @anthropic-ai/sdk calls are NOT gated.`,
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
      emitTollgateWarning(
        'TOLLGATE_UNSUPPORTED_SDK_VERSION',
        `${PACKAGE_NAME}: @anthropic-ai/sdk ${moduleVersion} is outside the supported range ${SUPPORTED_ANTHROPIC_RANGE}; its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const Anthropic = resolveClient(moduleExports);
    const APIPromise = resolveAPIPromise(moduleExports);
    const postHost = methodHost(Anthropic?.prototype, 'post');
    if (!Anthropic || !APIPromise || !postHost) {
      emitTollgateWarning(
        'TOLLGATE_SDK_NOT_RECOGNISED',
        `${PACKAGE_NAME}: the @anthropic-ai/sdk module does not look as expected (no Anthropic client with post(), or no APIPromise export); its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const gate = () => this.gate();
    // The gate proper: on create(), so the SDK's own span can be nested or suppressed. Stacked over
    // any other instrumentation's wrapper, never removing it.
    for (const target of targets(Anthropic)) {
      const host = target.host();
      if (!host || typeof host[target.method] !== 'function') continue;
      if (target.kind === 'create') this.noticeOtherWrapper(host, target.resource, 'registered');
      wrapMethod(host, target.method, PACKAGE_NAME, (original) =>
        target.kind === 'create'
          ? (gatedCreate(original as never, gate, () => this.getConfig(), APIPromise) as never)
          : (deferredHelperSpan(original as never, gate) as never),
      );
    }
    // The floor: every Messages request passes the client's post(), which no other instrumentation
    // wraps, so the gate holds even when another one takes Tollgate's create() wrapper off.
    wrapMethod(postHost, 'post', PACKAGE_NAME, (original) =>
      gatedPost(original as never, {
        gate,
        config: () => this.getConfig(),
        APIPromise,
        onUngatedCreate: () => this.noticeCreateWrapperLost(Anthropic),
      }),
    );
    const requestHost = methodHost(Anthropic.prototype, 'fetchWithTimeout');
    if (requestHost) wrapMethod(requestHost, 'fetchWithTimeout', PACKAGE_NAME, observeAttempts as never);
    return moduleExports;
  }

  private unpatch(moduleExports: AnthropicModuleExports): void {
    const Anthropic = resolveClient(moduleExports);
    if (!Anthropic) return;
    for (const target of targets(Anthropic)) {
      const host = target.host();
      if (host) unwrapMethod(host, target.method, PACKAGE_NAME);
    }
    for (const name of ['post', 'fetchWithTimeout']) {
      const host = methodHost(Anthropic.prototype, name);
      if (host) unwrapMethod(host, name, PACKAGE_NAME);
    }
  }

  /** Says so, once, when another instrumentation wraps a `create()` this one gates: each call is recorded by both. */
  private noticeOtherWrapper(host: MethodHost, resource: string, when: 'registered' | 'replaced'): void {
    if (when === 'registered' && !hasForeignWrapper(host, 'create', PACKAGE_NAME)) return;
    emitTollgateWarning(
      'TOLLGATE_OTHER_INSTRUMENTATION',
      `${PACKAGE_NAME}: another instrumentation also wraps @anthropic-ai/sdk ${resource}.create` +
        (when === 'replaced'
          ? " and has taken Tollgate's wrapper off it; calls are still gated, at the client's post(), with Tollgate's span under the SDK's own. "
          : '. Calls stay gated by Tollgate, and each one is recorded by both. ') +
        TURN_ONE_OFF,
    );
  }

  /** A Messages request reached post() without passing Tollgate's create(): find out which wrapper went missing. */
  private noticeCreateWrapperLost(Anthropic: AnthropicClass): void {
    if (this.createWrapperLossNoticed) return;
    for (const target of targets(Anthropic)) {
      const host = target.host();
      if (target.kind !== 'create' || !host || hasOwnWrapper(host, 'create', PACKAGE_NAME)) continue;
      this.createWrapperLossNoticed = true;
      this.noticeOtherWrapper(host, target.resource, 'replaced');
    }
  }
}

/** Defaults and validation in one place. A bad option is reported and replaced, never thrown at a call. */
function normalizeConfig(config: AnthropicInstrumentationConfig): AnthropicInstrumentationConfig {
  // Suppressed by default: the SDK's span repeats gen_ai.usage.*, so span-based token sums would count twice.
  const normalized = { ...config, sdkSpans: config.sdkSpans ?? 'suppress' };
  if (!SDK_SPAN_MODES.includes(normalized.sdkSpans)) {
    diag.warn(
      `${PACKAGE_NAME}: sdkSpans must be one of ${SDK_SPAN_MODES.join(', ')}; got ${String(normalized.sdkSpans)}, using 'suppress'.`,
    );
    normalized.sdkSpans = 'suppress';
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
