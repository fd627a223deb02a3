import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import {
  CallGate,
  emitTollgateWarning,
  hasForeignWrapper,
  type MethodHost,
  methodHost,
  observeAttempts,
  unwrapMethod,
  wrapMethod,
} from '@tollgate/core';
import { gatedCreate } from './gated-create';
import type { APIPromiseConstructor, OpenAIClass, OpenAIModuleExports } from './internal-types';
import type { OpenAIOperation } from './result-observers';
import type { OpenAIInstrumentationConfig } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-openai';
const PACKAGE_VERSION = '0.1.0';
/** openai majors this package is tested against; others get a warning and are left alone. */
export const SUPPORTED_OPENAI_MAJORS = [5, 6, 7] as const;
export const SUPPORTED_OPENAI_RANGE = '>=5 <8';

/** The resource class whose `create()` posts each gated operation's request. */
function resourceOf(
  OpenAI: OpenAIClass,
  operation: OpenAIOperation,
): { name: string; prototype?: MethodHost } {
  switch (operation) {
    case 'chat':
      return { name: 'Chat.Completions', prototype: OpenAI.Chat?.Completions?.prototype };
    case 'responses':
      return { name: 'Responses', prototype: OpenAI.Responses?.prototype };
    case 'embeddings':
      return { name: 'Embeddings', prototype: OpenAI.Embeddings?.prototype };
    default:
      return { name: 'Completions', prototype: OpenAI.Completions?.prototype };
  }
}
const OPERATIONS: readonly OpenAIOperation[] = ['chat', 'responses', 'embeddings', 'text_completion'];

/**
 * Gates, traces and costs every call made with the `openai` SDK (CommonJS and ESM).
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
 * ```
 */
export class OpenAIInstrumentation extends InstrumentationBase<OpenAIInstrumentationConfig> {
  private callGate: CallGate | undefined;
  /** Another instrumentation's wrapper of create() has been reported: calls stop looking for one. */
  private otherWrapperNoticed = false;

  constructor(config: OpenAIInstrumentationConfig) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  /** Also called by the base constructor. Without a guard nothing is gated: said at once, not at the first call. */
  override setConfig(config: OpenAIInstrumentationConfig): void {
    super.setConfig(config);
    this.callGate = undefined;
    if (!config?.guard) {
      emitTollgateWarning(
        'TOLLGATE_NO_GUARD',
        `${PACKAGE_NAME}: OpenAIInstrumentation was given no guard (config.guard from createGuard()); openai calls are NOT gated.`,
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
        'openai',
        ['*'],
        (moduleExports: OpenAIModuleExports, moduleVersion?: string) =>
          this.patch(moduleExports, moduleVersion),
        (moduleExports: OpenAIModuleExports) => this.unpatch(moduleExports),
      ),
    ];
  }

  /**
   * Patches an `openai` module you loaded yourself — for bundled apps, where module hooks
   * never see the SDK. Pass the module namespace: `instrument(await import('openai'))`.
   */
  instrument(moduleExports: unknown): void {
    this.patch(moduleExports as OpenAIModuleExports, undefined);
  }

  /** Reverses `instrument()`. */
  uninstrument(moduleExports: unknown): void {
    this.unpatch(moduleExports as OpenAIModuleExports);
  }

  private gate(): CallGate | undefined {
    if (!this.isEnabled()) return undefined;
    const { guard } = this.getConfig();
    if (!guard) return undefined;
    this.callGate ??= new CallGate(guard, this.tracer, this.meter);
    return this.callGate;
  }

  private patch(moduleExports: OpenAIModuleExports, moduleVersion: string | undefined): OpenAIModuleExports {
    const major = moduleVersion ? Number(moduleVersion.split('.')[0]) : undefined;
    if (major !== undefined && !(SUPPORTED_OPENAI_MAJORS as readonly number[]).includes(major)) {
      emitTollgateWarning(
        'TOLLGATE_UNSUPPORTED_SDK_VERSION',
        `${PACKAGE_NAME}: openai ${moduleVersion} is outside the supported range ${SUPPORTED_OPENAI_RANGE}; its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const OpenAI = resolveClient(moduleExports);
    const APIPromise =
      moduleExports.APIPromise ?? (moduleExports.default as OpenAIModuleExports | undefined)?.APIPromise;
    const postHost = methodHost(OpenAI?.prototype, 'post');
    if (!OpenAI || !APIPromise || !postHost) {
      emitTollgateWarning(
        'TOLLGATE_SDK_NOT_RECOGNISED',
        `${PACKAGE_NAME}: the openai module does not look as expected (no OpenAI client with post(), or no APIPromise export); its calls are NOT gated.`,
      );
      return moduleExports;
    }
    // The gate sits on the client's post(), which other instrumentations leave alone (see gated-create.ts).
    wrapMethod(postHost, 'post', PACKAGE_NAME, (original) =>
      gatedCreate(original as never, {
        gate: () => this.gate(),
        config: () => this.getConfig(),
        APIPromise: APIPromise as APIPromiseConstructor,
        // One property read per call: the full check runs only once this resource's create() is wrapped.
        onGatedCall: (operation) => {
          if (this.otherWrapperNoticed) return;
          if (hasForeignWrapper(resourceOf(OpenAI, operation).prototype, 'create', PACKAGE_NAME)) {
            this.noticeOtherWrapper(OpenAI);
          }
        },
      }),
    );
    const fetchHost = methodHost(OpenAI.prototype, 'fetchWithTimeout');
    if (fetchHost) wrapMethod(fetchHost, 'fetchWithTimeout', PACKAGE_NAME, observeAttempts as never);
    this.noticeOtherWrapper(OpenAI);
    return moduleExports;
  }

  private unpatch(moduleExports: OpenAIModuleExports): void {
    const OpenAI = resolveClient(moduleExports);
    if (!OpenAI) return;
    for (const name of ['post', 'fetchWithTimeout']) {
      const host = methodHost(OpenAI.prototype, name);
      if (host) unwrapMethod(host, name, PACKAGE_NAME);
    }
  }

  /**
   * Says so, once, when another instrumentation wraps the resources' `create()`: the gate still
   * holds (it is on `post()`), and each call is recorded by both. Checked at patch time and again
   * at calls, since the other may be registered after this one.
   */
  private noticeOtherWrapper(OpenAI: OpenAIClass): void {
    const wrapped = OPERATIONS.map((operation) => resourceOf(OpenAI, operation))
      .filter((resource) => hasForeignWrapper(resource.prototype, 'create', PACKAGE_NAME))
      .map((resource) => `${resource.name}.create`);
    if (wrapped.length === 0) return;
    this.otherWrapperNoticed = true;
    emitTollgateWarning(
      'TOLLGATE_OTHER_INSTRUMENTATION',
      `${PACKAGE_NAME}: another instrumentation also wraps openai ${wrapped.join(', ')} (e.g. @opentelemetry/instrumentation-openai). ` +
        'Calls stay gated by Tollgate, and each one is recorded by both: a Tollgate span and the other span. ' +
        "To keep only Tollgate's, turn the other off (for the OpenTelemetry one: OTEL_NODE_DISABLED_INSTRUMENTATIONS=openai, " +
        "or getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-openai': { enabled: false } })).",
    );
  }
}

function resolveClient(moduleExports: OpenAIModuleExports): OpenAIClass | undefined {
  const fromDefault = moduleExports.default;
  return (
    moduleExports.OpenAI ??
    (typeof fromDefault === 'function'
      ? (fromDefault as OpenAIClass)
      : (fromDefault as { OpenAI?: OpenAIClass } | undefined)?.OpenAI)
  );
}
