/**
 * Test support, not part of the package (tsup builds from index.ts only): the instrumentation
 * patched into both copies (ESM and CommonJS) of the real `@ai-sdk/openai`, `@ai-sdk/anthropic`
 * and `@ai-sdk/google`, reporting to an in-memory telemetry harness, and providers of the mock.
 */
import { createRequire } from 'node:module';
import * as anthropicModule from '@ai-sdk/anthropic';
import * as googleModule from '@ai-sdk/google';
import * as openaiModule from '@ai-sdk/openai';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import type { MockProvider } from '@tollgate/mock-provider';
import { AiSdkInstrumentation } from './instrumentation';

const require = createRequire(import.meta.url);

/** The CommonJS builds: separate model classes with their own prototypes. */
const commonJs = {
  openai: require('@ai-sdk/openai') as typeof openaiModule,
  anthropic: require('@ai-sdk/anthropic') as typeof anthropicModule,
  google: require('@ai-sdk/google') as typeof googleModule,
};
const esm = { openai: openaiModule, anthropic: anthropicModule, google: googleModule };
const allCopies = [...Object.values(esm), ...Object.values(commonJs)];

/** An instrumentation patched into every provider package copy, and the harness it reports to. */
export interface InstrumentedSdk {
  harness: ReturnType<typeof telemetryHarness>;
  instrumentation: AiSdkInstrumentation;
}

export function instrumentSdk(guard: Guard = createGuard()): InstrumentedSdk {
  const harness = telemetryHarness();
  const instrumentation = new AiSdkInstrumentation({ guard });
  instrumentation.setTracerProvider(harness.tracerProvider);
  instrumentation.setMeterProvider(harness.meterProvider);
  for (const copy of allCopies) instrumentation.instrument(copy);
  return { harness, instrumentation };
}

/** Undoes `instrumentSdk`, closing the guard the test gated with. */
export async function uninstrumentSdk(sdk: InstrumentedSdk, guard: Guard | undefined): Promise<void> {
  for (const copy of allCopies) sdk.instrumentation.uninstrument(copy);
  await guard?.close();
  await sdk.harness.shutdown();
}

/** The three providers, built against the mock provider from the ESM or the CommonJS copies. */
/** The scope of the spans this package makes (the AI SDK's own spans have another). */
export const TOLLGATE_SCOPE = '@tollgate/instrumentation-ai-sdk';

/** Waits until the mock has answered every request and the calls' settlements have run. */
export async function settled(mock: MockProvider): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The finished spans Tollgate made, in the order they ended. */
export function tollgateSpans(sdk: InstrumentedSdk): ReadableSpan[] {
  return sdk.harness.spans
    .getFinishedSpans()
    .filter((span) => span.instrumentationScope.name === TOLLGATE_SCOPE);
}

export function mockProviders(mock: MockProvider, build: 'esm' | 'cjs' = 'esm') {
  const copies = build === 'esm' ? esm : commonJs;
  return {
    openai: copies.openai.createOpenAI({ baseURL: mock.openaiBaseUrl, apiKey: 'test-key' }),
    anthropic: copies.anthropic.createAnthropic({
      baseURL: `${mock.anthropicBaseUrl}/v1`,
      apiKey: 'test-key',
    }),
    google: copies.google.createGoogleGenerativeAI({ baseURL: `${mock.url}/v1beta`, apiKey: 'test-key' }),
  };
}
