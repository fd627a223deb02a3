/**
 * Test support, not part of the package (tsup builds from index.ts only): the instrumentation
 * patched into the real `@aws-sdk/client-bedrock-runtime`, reporting to an in-memory telemetry
 * harness, and clients of the mock provider on the SDK's default HTTP/2 handler.
 */
import * as bedrockModule from '@aws-sdk/client-bedrock-runtime';
import { createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import type { MockProvider } from '@tollgate/mock-provider';
import { BedrockInstrumentation } from './instrumentation';

const { BedrockRuntimeClient } = bedrockModule;

/** An instrumentation patched into the SDK, and the harness it reports to. */
export interface InstrumentedSdk {
  harness: ReturnType<typeof telemetryHarness>;
  instrumentation: BedrockInstrumentation;
}

/** A fresh harness and an instrumentation gating with `guard`, patched into the SDK. */
export function instrumentSdk(guard: Guard = createGuard()): InstrumentedSdk {
  const harness = telemetryHarness();
  const instrumentation = new BedrockInstrumentation({ guard });
  instrumentation.setTracerProvider(harness.tracerProvider);
  instrumentation.setMeterProvider(harness.meterProvider);
  instrumentation.instrument(bedrockModule);
  return { harness, instrumentation };
}

/** Undoes `instrumentSdk`, closing the guard the test gated with. */
export async function uninstrumentSdk(sdk: InstrumentedSdk, guard: Guard | undefined): Promise<void> {
  sdk.instrumentation.uninstrument(bedrockModule);
  await guard?.close();
  await sdk.harness.shutdown();
}

/** Bedrock clients of the mock provider, each destroyed (its HTTP/2 session closed) by `destroyAll()`. */
export function mockClients(mock: () => MockProvider) {
  const made: InstanceType<typeof BedrockRuntimeClient>[] = [];
  return {
    /** The SDK's default (HTTP/2) handler, static fake credentials, no retries unless asked. */
    create(config: ConstructorParameters<typeof BedrockRuntimeClient>[0] = {}) {
      const client = new BedrockRuntimeClient({
        region: 'us-east-1',
        endpoint: mock().url,
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
        maxAttempts: 1,
        ...config,
      });
      made.push(client);
      return client;
    },
    destroyAll(): void {
      for (const client of made.splice(0)) client.destroy();
    },
  };
}
