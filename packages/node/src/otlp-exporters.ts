import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { TollgateConfigError } from '@tollgate/core';
import { findInstalledPackage } from './installed-package';

/** The OTLP transports of the specification; `http/json` is Tollgate's default. */
export const OTLP_PROTOCOLS = ['http/json', 'http/protobuf', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export type OtlpSignal = 'traces' | 'metrics';

/** The package holding each signal's exporter for the protocols not built in. */
const EXPORTER_PACKAGES: Record<OtlpSignal, Record<Exclude<OtlpProtocol, 'http/json'>, string>> = {
  traces: {
    'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
    grpc: '@opentelemetry/exporter-trace-otlp-grpc',
  },
  metrics: {
    'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
    grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
  },
};

/** A chosen protocol and the variable that chose it (none for the default). */
export interface OtlpProtocolChoice {
  readonly protocol: OtlpProtocol;
  readonly variable?: string;
}

/**
 * The protocol for `signal`, as the specification orders the variables: the per-signal
 * `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_PROTOCOL`, then `OTEL_EXPORTER_OTLP_PROTOCOL`, then
 * `http/json`. Throws `TollgateConfigError` naming the variable on a value outside the three.
 */
export function otlpProtocol(signal: OtlpSignal, env: NodeJS.ProcessEnv = process.env): OtlpProtocolChoice {
  for (const variable of [
    `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`,
    'OTEL_EXPORTER_OTLP_PROTOCOL',
  ]) {
    const value = env[variable]?.trim();
    if (!value) continue;
    if (!(OTLP_PROTOCOLS as readonly string[]).includes(value)) {
      throw new TollgateConfigError(variable, `must be one of ${OTLP_PROTOCOLS.join(', ')}`, value);
    }
    return { protocol: value as OtlpProtocol, variable };
  }
  return { protocol: 'http/json' };
}

/** The OTLP span exporter for the protocol the environment asks for (endpoint, headers… from the usual variables). */
export function otlpTraceExporter(): SpanExporter {
  const choice = otlpProtocol('traces');
  if (choice.protocol === 'http/json') return new OTLPTraceExporter();
  const { OTLPTraceExporter: Exporter } = loadExporterPackage('traces', choice) as {
    OTLPTraceExporter: new () => SpanExporter;
  };
  return new Exporter();
}

/** The OTLP metric exporter for the protocol the environment asks for. */
export function otlpMetricExporter(): PushMetricExporter {
  const choice = otlpProtocol('metrics');
  if (choice.protocol === 'http/json') return new OTLPMetricExporter();
  const { OTLPMetricExporter: Exporter } = loadExporterPackage('metrics', choice) as {
    OTLPMetricExporter: new () => PushMetricExporter;
  };
  return new Exporter();
}

const localRequire = createRequire(import.meta.url);

/**
 * Loads the exporter package for a non-default protocol, found as Node finds a package
 * (nearest `node_modules` walking up) from each of `fromDirectories` in turn: by default next to
 * Tollgate, the app's own (working directory), then the copy `@opentelemetry/sdk-node` brings.
 * Not found: a `TollgateConfigError` naming the variable and the package to install, at
 * `register()` rather than at the first export.
 */
export function loadExporterPackage(
  signal: OtlpSignal,
  choice: OtlpProtocolChoice,
  fromDirectories: readonly string[] = defaultDirectories(),
): unknown {
  const name = EXPORTER_PACKAGES[signal][choice.protocol as Exclude<OtlpProtocol, 'http/json'>];
  for (const directory of fromDirectories) {
    const entry = findInstalledPackage(name, directory)?.entry('require');
    if (entry) return localRequire(entry);
  }
  throw new TollgateConfigError(
    choice.variable ?? 'OTEL_EXPORTER_OTLP_PROTOCOL',
    `${choice.protocol} export of ${signal} needs the package ${name}: install it (npm i ${name})`,
    choice.protocol,
  );
}

function defaultDirectories(): string[] {
  const directories = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  try {
    directories.push(dirname(localRequire.resolve('@opentelemetry/sdk-node')));
  } catch {
    // Not installed: the other places are searched.
  }
  return directories;
}
