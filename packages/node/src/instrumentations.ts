import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Guard } from '@tollgate/core';
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
  options: Pick<RegisterOptions, 'openai' | 'anthropic' | 'googleGenAI' | 'bedrock'> = {},
): Instrumentation[] {
  const instrumentations: Instrumentation[] = [];
  const patchers: SdkPatcher[] = [];
  const { enabled: openaiEnabled = true, ...openai } = options.openai ?? {};
  if (openaiEnabled) {
    const instrumentation = new OpenAIInstrumentation({ ...openai, guard });
    instrumentations.push(instrumentation);
    patchers.push({
      packageName: 'openai',
      supportedRange: SUPPORTED_OPENAI_RANGE,
      instrument: (moduleExports) => instrumentation.instrument(moduleExports),
    });
  }
  const { enabled: anthropicEnabled = true, ...anthropic } = options.anthropic ?? {};
  if (anthropicEnabled) {
    const instrumentation = new AnthropicInstrumentation({ ...anthropic, guard });
    instrumentations.push(instrumentation);
    patchers.push({
      packageName: '@anthropic-ai/sdk',
      supportedRange: SUPPORTED_ANTHROPIC_RANGE,
      instrument: (moduleExports) => instrumentation.instrument(moduleExports),
    });
  }
  const { enabled: googleGenAIEnabled = true, ...googleGenAI } = options.googleGenAI ?? {};
  if (googleGenAIEnabled) {
    const instrumentation = new GoogleGenAIInstrumentation({ ...googleGenAI, guard });
    instrumentations.push(instrumentation);
    patchers.push({
      packageName: '@google/genai',
      supportedRange: SUPPORTED_GOOGLE_GENAI_RANGE,
      instrument: (moduleExports) => instrumentation.instrument(moduleExports),
    });
  }
  const { enabled: bedrockEnabled = true, ...bedrock } = options.bedrock ?? {};
  if (bedrockEnabled) {
    const instrumentation = new BedrockInstrumentation({ ...bedrock, guard });
    instrumentations.push(instrumentation);
    patchers.push({
      packageName: '@aws-sdk/client-bedrock-runtime',
      supportedRange: SUPPORTED_BEDROCK_RANGE,
      instrument: (moduleExports) => instrumentation.instrument(moduleExports),
    });
  }
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
