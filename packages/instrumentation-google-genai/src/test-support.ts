/**
 * Test support, not part of the package (tsup builds from index.ts only): the instrumentation
 * patched into both copies of the real `@google/genai` (ESM and CommonJS), reporting to an
 * in-memory telemetry harness, and clients of the mock provider.
 */
import { createRequire } from 'node:module';
import * as genaiModule from '@google/genai';
import { createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import type { MockProvider } from '@tollgate/mock-provider';
import { GoogleGenAIInstrumentation } from './instrumentation';

/** The CommonJS build: a separate `Models` class with its own prototype. */
export const genaiCommonJs = createRequire(import.meta.url)('@google/genai') as typeof genaiModule;

/** An instrumentation patched into both SDK builds, and the harness it reports to. */
export interface InstrumentedSdk {
  harness: ReturnType<typeof telemetryHarness>;
  instrumentation: GoogleGenAIInstrumentation;
}

export function instrumentSdk(guard: Guard = createGuard()): InstrumentedSdk {
  const harness = telemetryHarness();
  const instrumentation = new GoogleGenAIInstrumentation({ guard });
  instrumentation.setTracerProvider(harness.tracerProvider);
  instrumentation.setMeterProvider(harness.meterProvider);
  instrumentation.instrument(genaiModule);
  instrumentation.instrument(genaiCommonJs);
  return { harness, instrumentation };
}

/** Undoes `instrumentSdk`, closing the guard the test gated with. */
export async function uninstrumentSdk(sdk: InstrumentedSdk, guard: Guard | undefined): Promise<void> {
  sdk.instrumentation.uninstrument(genaiModule);
  sdk.instrumentation.uninstrument(genaiCommonJs);
  await guard?.close();
  await sdk.harness.shutdown();
}

type Client = InstanceType<typeof genaiModule.GoogleGenAI>;

/** A Gemini API client of the mock provider, from the ESM build or the CommonJS one. */
export function geminiClient(mock: MockProvider, build: 'esm' | 'cjs' = 'esm'): Client {
  const { GoogleGenAI } = build === 'esm' ? genaiModule : genaiCommonJs;
  return new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: mock.url } });
}

/** A Vertex AI client of the mock provider, authenticated offline with a fixed bearer token. */
export function vertexClient(mock: MockProvider): Client {
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer test-token' }) };
  return new genaiModule.GoogleGenAI({
    vertexai: true,
    project: 'test-project',
    location: 'us-central1',
    httpOptions: { baseUrl: mock.url },
    googleAuthOptions: { authClient: authClient as never },
  });
}
