/**
 * Test support, not part of the package (tsup builds from index.ts only): the instrumentation
 * patched into the real `openai`, reporting to an in-memory telemetry harness, and
 * a client of the mock provider.
 */
import { createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import type { MockProvider } from '@tollgate/mock-provider';
import * as openaiModule from 'openai';
import { OpenAIInstrumentation } from './instrumentation';

const { OpenAI } = openaiModule;

/** An instrumentation patched into the SDK, and the harness it reports to. */
export interface InstrumentedSdk {
  harness: ReturnType<typeof telemetryHarness>;
  instrumentation: OpenAIInstrumentation;
}

/** A fresh harness and an instrumentation gating with `guard`, patched into the SDK. */
export function instrumentSdk(guard: Guard = createGuard()): InstrumentedSdk {
  const harness = telemetryHarness();
  const instrumentation = new OpenAIInstrumentation({ guard });
  instrumentation.setTracerProvider(harness.tracerProvider);
  instrumentation.setMeterProvider(harness.meterProvider);
  instrumentation.instrument(openaiModule);
  return { harness, instrumentation };
}

/** Undoes `instrumentSdk`, closing the guard the test gated with. */
export async function uninstrumentSdk(sdk: InstrumentedSdk, guard: Guard | undefined): Promise<void> {
  sdk.instrumentation.uninstrument(openaiModule);
  await guard?.close();
  await sdk.harness.shutdown();
}

/** A client of the mock provider that never retries, so each call is one request. */
export function mockClient(
  mock: MockProvider,
  options: ConstructorParameters<typeof OpenAI>[0] = {},
): InstanceType<typeof OpenAI> {
  return new OpenAI({ apiKey: 'test-key', baseURL: mock.openaiBaseUrl, maxRetries: 0, ...options });
}
