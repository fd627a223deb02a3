// The same OpenTelemetry setup for every variant that records telemetry: a tracer provider
// with a batch span processor, a meter provider with a periodic reader, and the
// AsyncLocalStorage context manager. Exporters discard what they receive, so the figures
// measure recording, not an export destination.
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const SUCCESS = { code: 0 };

/** A span exporter that counts and drops. */
class DiscardSpanExporter {
  exported = 0;
  export(spans, done) {
    this.exported += spans.length;
    done(SUCCESS);
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

/** A metric exporter that drops. */
class DiscardMetricExporter {
  export(_metrics, done) {
    done(SUCCESS);
  }
  selectAggregationTemporality() {
    return AggregationTemporality.CUMULATIVE;
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

/** Registers global providers; returns a shutdown function and the span exporter (to count spans). */
export function setUpTelemetry() {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const spans = new DiscardSpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(spans, { maxQueueSize: 4096, scheduledDelayMillis: 1000 })],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new DiscardMetricExporter(),
        exportIntervalMillis: 10_000,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
