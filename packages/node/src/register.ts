import { randomUUID } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createGuard, type Guard, TollgateConfigError } from '@tollgate/core';
import { instrumentedModules, tollgateInstrumentations } from './instrumentations';
import { ensureLoaderHook } from './loader-hook';
import type { RegisterOptions } from './register-options';

/** What `register()` started; `shutdown()` flushes telemetry and stops the guard. */
export interface TollgateHandle {
  readonly guard: Guard;
  readonly sdk: NodeSDK;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK with OTLP/HTTP export of traces and metrics (endpoints
 * from the standard `OTEL_EXPORTER_OTLP_*` variables), creates the guard and registers the
 * openai and Anthropic instrumentations with it. SDKs loaded later are patched as they load
 * (CommonJS `require`, and ES modules through a loader hook limited to the instrumented
 * modules); copies already loaded are patched in place at once — for an ES module app, the copy
 * its entry's `import` resolves to, so `register()` in a module imported before `openai`, or
 * above the import in the same file, gates every call the app makes after `register()` returns.
 * A copy found loaded through `require` is reported with a `TOLLGATE_SDK_PATCHED_LATE` warning.
 * Throws `TollgateConfigError` naming the field on invalid configuration.
 *
 * @example
 * ```ts
 * register({ serviceName: 'api', guard: { budgets: [{ id: 'daily', limit: { usd: 25 }, window: 'day' }] } });
 * ```
 */
export function register(options: RegisterOptions = {}): TollgateHandle {
  // Configuration is validated before anything is patched.
  const guard = createGuard(options.guard ?? {});
  const intervalMillis = options.metricExportIntervalMillis ?? envInterval();
  const instrumentations = [...tollgateInstrumentations(guard, options), ...(options.instrumentations ?? [])];
  ensureLoaderHook(instrumentedModules(instrumentations));
  const sdk = new NodeSDK({
    ...(options.serviceName ? { serviceName: options.serviceName } : {}),
    // Replicas of one service must not write the same series; OTEL_RESOURCE_ATTRIBUTES can still set the id.
    ...(process.env.OTEL_RESOURCE_ATTRIBUTES?.includes('service.instance.id=')
      ? {}
      : { resource: resourceFromAttributes({ 'service.instance.id': randomUUID() }) }),
    // OTLP/HTTP unless the standard variables choose other exporters (NodeSDK reads them when none is given).
    ...(options.spanProcessors
      ? { spanProcessors: options.spanProcessors }
      : process.env.OTEL_TRACES_EXPORTER
        ? {}
        : { traceExporter: new OTLPTraceExporter() }),
    ...(options.metricReaders
      ? { metricReaders: options.metricReaders }
      : process.env.OTEL_METRICS_EXPORTER
        ? {}
        : {
            metricReaders: [
              new PeriodicExportingMetricReader({
                exporter: new OTLPMetricExporter(),
                exportIntervalMillis: intervalMillis,
              }),
            ],
          }),
    instrumentations,
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= sdk
      .shutdown()
      .catch((error: unknown) => diag.warn('tollgate: telemetry shutdown failed', error))
      .finally(() => guard.close());
    return stopping;
  };
  if (options.shutdownOnExit !== false) flushOnExit(shutdown);
  return { guard, sdk, shutdown };
}

function envInterval(): number {
  const raw = process.env.OTEL_METRIC_EXPORT_INTERVAL;
  if (raw === undefined || raw === '') return 60_000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new TollgateConfigError(
      'OTEL_METRIC_EXPORT_INTERVAL',
      'must be a positive number of milliseconds',
      raw,
    );
  }
  return value;
}

/** Flushes before the process goes: on a natural end, and on SIGTERM/SIGINT before re-raising them. */
function flushOnExit(shutdown: () => Promise<void>): void {
  process.once('beforeExit', () => void shutdown());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      void shutdown().finally(() => {
        // Hand the signal back to whatever would have handled it without us (by default: exit).
        process.kill(process.pid, signal);
      });
    };
    process.once(signal, onSignal);
  }
}
