import { diag } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { CallGate, observeAttempts } from '@tollgate/core';
import { gatedCreate } from './gated-create';
import type { APIPromiseConstructor, MethodHost, OpenAIClass, OpenAIModuleExports } from './internal-types';
import type { OpenAIOperation } from './result-observers';
import type { OpenAIInstrumentationConfig } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-openai';
const PACKAGE_VERSION = '0.1.0';
/** openai majors this package is tested against; others get a warning and are left alone. */
export const SUPPORTED_OPENAI_MAJORS = [5, 6, 7] as const;
export const SUPPORTED_OPENAI_RANGE = '>=5 <8';

type Target = { host: () => MethodHost | undefined; method: string; operation: OpenAIOperation };

function targets(OpenAI: OpenAIClass): Target[] {
  return [
    { host: () => OpenAI.Chat?.Completions?.prototype, method: 'create', operation: 'chat' },
    { host: () => OpenAI.Responses?.prototype, method: 'create', operation: 'responses' },
    { host: () => OpenAI.Embeddings?.prototype, method: 'create', operation: 'embeddings' },
    { host: () => OpenAI.Completions?.prototype, method: 'create', operation: 'text_completion' },
  ];
}

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

  constructor(config: OpenAIInstrumentationConfig) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  override setConfig(config: OpenAIInstrumentationConfig): void {
    super.setConfig(config);
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
      diag.warn(
        `${PACKAGE_NAME}: openai ${moduleVersion} is outside the supported range ${SUPPORTED_OPENAI_RANGE}; its calls are NOT gated.`,
      );
      return moduleExports;
    }
    const OpenAI = resolveClient(moduleExports);
    const APIPromise =
      moduleExports.APIPromise ?? (moduleExports.default as OpenAIModuleExports | undefined)?.APIPromise;
    if (!OpenAI || !APIPromise) {
      diag.warn(
        `${PACKAGE_NAME}: the openai module does not look as expected (no OpenAI or APIPromise export); its calls are NOT gated.`,
      );
      return moduleExports;
    }
    for (const target of targets(OpenAI)) {
      const host = target.host();
      if (!host || typeof host[target.method] !== 'function') continue;
      if (isWrapped(host[target.method])) continue;
      this._wrap(
        host,
        target.method,
        (original: unknown) =>
          gatedCreate(
            original as never,
            target.operation,
            () => this.gate(),
            () => this.getConfig(),
            APIPromise as APIPromiseConstructor,
          ) as never,
      );
    }
    const clientPrototype = OpenAI.prototype;
    if (
      typeof clientPrototype.fetchWithTimeout === 'function' &&
      !isWrapped(clientPrototype.fetchWithTimeout)
    ) {
      this._wrap(clientPrototype, 'fetchWithTimeout', observeAttempts as never);
    }
    return moduleExports;
  }

  private unpatch(moduleExports: OpenAIModuleExports): void {
    const OpenAI = resolveClient(moduleExports);
    if (!OpenAI) return;
    for (const target of targets(OpenAI)) {
      const host = target.host();
      if (host && isWrapped(host[target.method])) this._unwrap(host, target.method);
    }
    if (isWrapped(OpenAI.prototype.fetchWithTimeout)) this._unwrap(OpenAI.prototype, 'fetchWithTimeout');
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
