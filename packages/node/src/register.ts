import { randomUUID } from 'node:crypto';
import { context, diag } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createGuard, type Guard, TollgateConfigError } from '@tollgate/core';
import { AsyncContextManager } from './async-context-manager';
import { guardStoreFromEnv } from './guard-store-from-env';
import { instrumentedModules, tollgateInstrumentations } from './instrumentations';
import { ensureLoaderHook } from './loader-hook';
import { otlpMetricExporter, otlpTraceExporter } from './otlp-exporters';
import type { RegisterOptions } from './register-options';

/** What `register()` started; `shutdown()` flushes telemetry and stops the guard. */
export interface TollgateHandle {
  readonly guard: Guard;
  readonly sdk: NodeSDK;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK with OTLP export of traces and metrics (protocol —
 * `http/json` unless `OTEL_EXPORTER_OTLP_PROTOCOL` or its per-signal variant says
 * `http/protobuf` or `grpc` — and endpoints from the standard `OTEL_EXPORTER_OTLP_*`
 * variables; no logs unless `OTEL_LOGS_EXPORTER` asks for them), creates the guard and registers the
 * openai, Anthropic, Google Gen AI, Bedrock and Vercel AI SDK instrumentations with it. SDKs loaded later are patched as they load
 * (CommonJS `require`, and ES modules through a loader hook limited to the instrumented
 * modules); copies already loaded are patched in place at once — for an ES module app, the copy
 * its entry's `import` resolves to, so `register()` in a module imported before `openai`, or
 * above the import in the same file, gates every call the app makes after `register()` returns.
 * A copy found loaded through `require` is reported with a `TOLLGATE_SDK_PATCHED_LATE` warning.
 * With `OTEL_SDK_DISABLED=true` nothing is exported, but a context manager is still registered
 * so the gate keeps its provider feedback (429 retry-after, rate-limit headers).
 * Throws `TollgateConfigError` naming the field (or the variable) on invalid configuration,
 * including a protocol whose exporter package is not installed.
 *
 * @example
 * ```ts
 * register({ serviceName: 'api', guard: { budgets: [{ id: 'daily', limit: { usd: 25 }, window: 'day' }] } });
 * ```
 */
export function register(options: RegisterOptions = {}): TollgateHandle {
  // Configuration is validated before anything is patched. A ledger or limiter store given in
  // code wins over TOLLGATE_REDIS_URL.
  const store =
    options.guard?.ledger || options.guard?.limiter
      ? undefined
      : guardStoreFromEnv(process.env, undefined, options.guard?.leaseExpiry);
  let guard: Guard;
  try {
    guard = createGuard({ ...store, ...options.guard });
  } catch (error) {
    void store?.ledger?.close();
    throw error;
  }
  const intervalMillis = options.metricExportIntervalMillis ?? envInterval();
  const sdkDisabled = process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const instrumentations = [...tollgateInstrumentations(guard, options), ...(options.instrumentations ?? [])];
  ensureLoaderHook(instrumentedModules(instrumentations));
  const sdk = new NodeSDK({
    ...(options.serviceName ? { serviceName: options.serviceName } : {}),
    // Replicas of one service must not write the same series; OTEL_RESOURCE_ATTRIBUTES can still set the id.
    ...(process.env.OTEL_RESOURCE_ATTRIBUTES?.includes('service.instance.id=')
      ? {}
      : { resource: resourceFromAttributes({ 'service.instance.id': randomUUID() }) }),
    // OTLP in the protocol the OTEL_EXPORTER_OTLP_*PROTOCOL variables choose, unless
    // OTEL_*_EXPORTER choose other exporters (NodeSDK reads them when none is given). Exporters
    // are not built when the SDK is disabled: it would not use them.
    ...(options.spanProcessors
      ? { spanProcessors: options.spanProcessors }
      : process.env.OTEL_TRACES_EXPORTER || sdkDisabled
        ? {}
        : { traceExporter: otlpTraceExporter() }),
    ...(options.metricReaders
      ? { metricReaders: options.metricReaders }
      : process.env.OTEL_METRICS_EXPORTER || sdkDisabled
        ? {}
        : {
            metricReaders: [
              new PeriodicExportingMetricReader({
                exporter: otlpMetricExporter(),
                exportIntervalMillis: intervalMillis,
              }),
            ],
          }),
    // NodeSDK would otherwise start an OTLP logs pipeline nobody asked for.
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations,
  });
  sdk.start();
  // A disabled NodeSDK registers nothing, not even a context manager; the gate needs one to tie
  // each HTTP attempt to its call. The instrumentations are registered by hand for the same reason.
  if (sdkDisabled) {
    context.setGlobalContextManager(new AsyncContextManager());
    registerInstrumentations({ instrumentations });
  }

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

/**
 * Flushes before the process goes: on a natural end, and on SIGTERM/SIGINT. A signal is
 * re-raised after the flush only when no other listener handles it, so the default (exit)
 * happens; an app's own handler decides alone, and runs once.
 */
function flushOnExit(shutdown: () => Promise<void>): void {
  process.once('beforeExit', () => void shutdown());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      void shutdown().finally(() => {
        // Our listener is gone (once); any left is the app's, which already ran for this signal.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    process.once(signal, onSignal);
  }
}
