import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Guard } from '@tollgate/core';
import {
  AI_SDK_PROVIDER_PACKAGES,
  AiSdkInstrumentation,
  SUPPORTED_AI_SDK_PROVIDER_RANGE,
} from '@tollgate/instrumentation-ai-sdk';
import { AnthropicInstrumentation, SUPPORTED_ANTHROPIC_RANGE } from '@tollgate/instrumentation-anthropic';
import { BedrockInstrumentation, SUPPORTED_BEDROCK_RANGE } from '@tollgate/instrumentation-bedrock';
import {
  GoogleGenAIInstrumentation,
  SUPPORTED_GOOGLE_GENAI_RANGE,
} from '@tollgate/instrumentation-google-genai';
import { OpenAIInstrumentation, SUPPORTED_OPENAI_RANGE } from '@tollgate/instrumentation-openai';
import { patchLoadedSdks, type SdkPatcher } from './loaded-sdks';
import type { RegisterOptions } from './register-options';
import { watchForUngatedCalls } from './ungated-call-watch';

/**
 * Tollgate's instrumentations bound to `guard`, for an app that already runs its own
 * OpenTelemetry `NodeSDK`: pass them to its `instrumentations` option. SDK copies already
 * loaded at this point (a CommonJS `require`, or the ES module the app's entry imports) are
 * patched in place at once; see the package README for what that covers.
 *
 * @example
 * ```ts
 * const guard = createGuard(config);
 * new NodeSDK({ instrumentations: [...myInstrumentations, ...tollgateInstrumentations(guard)] }).start();
 * ```
 */
export function tollgateInstrumentations(
  guard: Guard,
  options: Pick<RegisterOptions, 'openai' | 'anthropic' | 'googleGenAI' | 'bedrock' | 'aiSdk'> = {},
): Instrumentation[] {
  const instrumentations: Instrumentation[] = [];
  const patchers: SdkPatcher[] = [];
  // One instrumentation per SDK, unless its section says `enabled: false`; each also patches
  // copies of its SDK that were loaded before Tollgate started.
  const add = <Section extends { enabled?: boolean }>(
    section: Section | undefined,
    create: (
      config: Omit<Section, 'enabled'>,
    ) => Instrumentation & { instrument(moduleExports: unknown): void },
    packageNames: string | readonly string[],
    supportedRange: string,
  ): void => {
    const { enabled = true, ...config } = section ?? ({} as Section);
    if (!enabled) return;
    const instrumentation = create(config);
    instrumentations.push(instrumentation);
    // One instrumentation may gate several packages (the AI SDK's providers).
    for (const packageName of typeof packageNames === 'string' ? [packageNames] : packageNames) {
      patchers.push({
        packageName,
        supportedRange,
        instrument: (moduleExports) => instrumentation.instrument(moduleExports),
      });
    }
  };
  add(
    options.openai,
    (config) => new OpenAIInstrumentation({ ...config, guard }),
    'openai',
    SUPPORTED_OPENAI_RANGE,
  );
  add(
    options.anthropic,
    (config) => new AnthropicInstrumentation({ ...config, guard }),
    '@anthropic-ai/sdk',
    SUPPORTED_ANTHROPIC_RANGE,
  );
  add(
    options.googleGenAI,
    (config) => new GoogleGenAIInstrumentation({ ...config, guard }),
    '@google/genai',
    SUPPORTED_GOOGLE_GENAI_RANGE,
  );
  add(
    options.bedrock,
    (config) => new BedrockInstrumentation({ ...config, guard }),
    '@aws-sdk/client-bedrock-runtime',
    SUPPORTED_BEDROCK_RANGE,
  );
  add(
    options.aiSdk,
    (config) => new AiSdkInstrumentation({ ...config, guard }),
    AI_SDK_PROVIDER_PACKAGES,
    SUPPORTED_AI_SDK_PROVIDER_RANGE,
  );
  patchLoadedSdks(patchers);
  watchForUngatedCalls();
  return instrumentations;
}

/**
 * Names of the modules `instrumentations` hook (nested lists, as `getNodeAutoInstrumentations()`
 * returns, are flattened): the ESM loader hook intercepts only these.
 */
export function instrumentedModules(
  instrumentations: ReadonlyArray<Instrumentation | Instrumentation[]>,
): string[] {
  const names = new Set<string>();
  for (const instrumentation of instrumentations.flat()) {
    // Part of InstrumentationBase, not of the Instrumentation interface: other implementations may lack it.
    const { getModuleDefinitions } = instrumentation as {
      getModuleDefinitions?: () => ReadonlyArray<{ name: string }>;
    };
    if (typeof getModuleDefinitions !== 'function') continue;
    for (const definition of getModuleDefinitions.call(instrumentation)) names.add(definition.name);
  }
  return [...names];
}
