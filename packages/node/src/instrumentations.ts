import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Guard } from '@tollgate/core';
import { AnthropicInstrumentation } from '@tollgate/instrumentation-anthropic';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';
import type { RegisterOptions } from './register-options';

/**
 * Tollgate's instrumentations bound to `guard`, for an app that already runs its own
 * OpenTelemetry `NodeSDK`: pass them to its `instrumentations` option.
 *
 * @example
 * ```ts
 * const guard = createGuard(config);
 * new NodeSDK({ instrumentations: [...myInstrumentations, ...tollgateInstrumentations(guard)] }).start();
 * ```
 */
export function tollgateInstrumentations(
  guard: Guard,
  options: Pick<RegisterOptions, 'openai' | 'anthropic'> = {},
): Instrumentation[] {
  const { enabled: openaiEnabled = true, ...openai } = options.openai ?? {};
  const instrumentations: Instrumentation[] = [];
  if (openaiEnabled) instrumentations.push(new OpenAIInstrumentation({ ...openai, guard }));
  const { enabled: anthropicEnabled = true, ...anthropic } = options.anthropic ?? {};
  if (anthropicEnabled) instrumentations.push(new AnthropicInstrumentation({ ...anthropic, guard }));
  return instrumentations;
}
