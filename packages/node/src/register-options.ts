import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
// sdk-trace, not sdk-trace-base: sdk-trace-base has no 3.x release; sdk-node depends on sdk-trace on both lines.
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { GuardConfig } from '@tollgate/core';
import type { AiSdkInstrumentationConfig } from '@tollgate/instrumentation-ai-sdk';

/** Options of `register()`. Every field is optional; the same shape (minus functions) is accepted from `TOLLGATE_CONFIG`. */
export interface RegisterOptions {
  /** `service.name` of the resource. @default `OTEL_SERVICE_NAME`, else `'unknown_service:node'` */
  serviceName?: string;
  /** The guard's configuration, exactly as `createGuard()` takes it. @default {} (observe only: no budgets, no limits) */
  guard?: GuardConfig;
  /** Options for the openai instrumentation (the guard is added for you). */
  openai?: {
    enabled?: boolean;
    includeStreamUsage?: boolean;
    providerName?: string;
    /** Azure OpenAI deployment name → the priced model it serves (`{ 'prod-gpt4o': 'gpt-4o' }`). */
    deployments?: Record<string, string>;
  };
  /** Options for the Anthropic instrumentation (the guard is added for you). */
  anthropic?: { enabled?: boolean; sdkSpans?: 'nest' | 'suppress'; providerName?: string };
  /** Options for the @google/genai instrumentation (the guard is added for you). */
  googleGenAI?: { enabled?: boolean; providerName?: string };
  /** Options for the Amazon Bedrock Runtime instrumentation (the guard is added for you). */
  bedrock?: { enabled?: boolean; providerName?: string };
  /** Options for the Vercel AI SDK instrumentation (`@ai-sdk/openai`, `@ai-sdk/anthropic`, `@ai-sdk/google` models; the guard is added for you). */
  aiSdk?: {
    enabled?: boolean;
    providerName?: string;
    /** Model objects by `provider:model` id, for the substitutes routing rules pick (code only, not the config file). */
    models?: AiSdkInstrumentationConfig['models'];
  };
  /**
   * How often metrics are exported over OTLP.
   * @default `OTEL_METRIC_EXPORT_INTERVAL`, else 60_000
   */
  metricExportIntervalMillis?: number;
  /**
   * Span processors to use instead of OTLP/HTTP export (e.g. an in-memory exporter in tests).
   * @default OTLP/HTTP, or what `OTEL_TRACES_EXPORTER` names
   */
  spanProcessors?: SpanProcessor[];
  /**
   * Metric readers to use instead of OTLP/HTTP export (e.g. the Prometheus exporter).
   * @default OTLP/HTTP every `metricExportIntervalMillis`, or what `OTEL_METRICS_EXPORTER` names
   */
  metricReaders?: IMetricReader[];
  /**
   * More instrumentations to register alongside Tollgate's (e.g. HTTP), or lists of them such as
   * `getNodeAutoInstrumentations()`. Their modules are added to the ESM loader hook. @default []
   */
  instrumentations?: Array<Instrumentation | Instrumentation[]>;
  /**
   * Flush and shut down on SIGTERM, SIGINT and `beforeExit`. After a signal's flush the signal is
   * raised again only when no other listener exists; an app's own handler runs once and decides.
   * @default true
   */
  shutdownOnExit?: boolean;
}
