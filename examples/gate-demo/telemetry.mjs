// Loaded with `node --import`: the two lines a user adds at startup (guard + instrumentation),
// plus an OpenTelemetry SDK that keeps spans and metrics in memory for the summary, and
// also exports them over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { register } from 'node:module';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createGuard } from '@tollgate/core';
import { AnthropicInstrumentation } from '@tollgate/instrumentation-anthropic';
import { GoogleGenAIInstrumentation } from '@tollgate/instrumentation-google-genai';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';
import { logDecision } from './decision-log.mjs';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

class PullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const otlp = Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
const resource = resourceFromAttributes({ 'service.name': 'tollgate-demo' });
export const spans = new InMemorySpanExporter();
export const metricReader = new PullReader({
  aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
});
const spanProcessors = [new SimpleSpanProcessor(spans)];
const readers = [metricReader];
if (otlp) {
  spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  readers.push(
    new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 1_000 }),
  );
}
export const tracerProvider = new BasicTracerProvider({ resource, spanProcessors });
export const meterProvider = new MeterProvider({ resource, readers });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);
metrics.setGlobalMeterProvider(meterProvider);

export const guard = createGuard({
  budgets: [
    { id: 'daily-spend', limit: { usd: 0.05 }, window: 'day', timeZone: 'UTC', alertAt: [0.5, 0.8, 1] },
    { id: 'tenant-tokens', per: ['tenant'], limit: { tokens: 20_000 }, window: 'hour' },
  ],
  rateLimits: [
    {
      provider: 'openai',
      model: 'gpt-4o-mini',
      rpm: 240,
      burstRequests: 4,
      tpm: 10_000,
      maxWaitMillis: 1_200,
    },
  ],
  onDecision: logDecision,
});
registerInstrumentations({
  instrumentations: [
    new OpenAIInstrumentation({ guard }),
    new AnthropicInstrumentation({ guard }),
    new GoogleGenAIInstrumentation({ guard }),
  ],
});
export const exportsOverOtlp = otlp;
