import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter as HttpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { TollgateConfigError } from '@tollgate/core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadExporterPackage, otlpProtocol, otlpTraceExporter } from './otlp-exporters';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('otlpProtocol', () => {
  it('takes the per-signal variable first, then the general one, then http/json', () => {
    expect(otlpProtocol('traces', {})).toEqual({ protocol: 'http/json' });
    expect(otlpProtocol('traces', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({
      protocol: 'grpc',
      variable: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    });
    expect(
      otlpProtocol('metrics', {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: ' http/protobuf ',
      }),
    ).toEqual({ protocol: 'http/protobuf', variable: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL' });
  });

  it('refuses a value outside the specification, naming the variable', () => {
    expect(() => otlpProtocol('metrics', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http' })).toThrow(
      'Invalid Tollgate config at OTEL_EXPORTER_OTLP_PROTOCOL: must be one of http/json, http/protobuf, grpc',
    );
  });
});

describe('loadExporterPackage', () => {
  it('builds a gRPC exporter with what @opentelemetry/sdk-node brings', () => {
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'grpc';
    const exporter = otlpTraceExporter();
    // The http/json and gRPC exporters share a class name: compare the classes themselves.
    const grpc = loadExporterPackage('traces', { protocol: 'grpc' }) as {
      OTLPTraceExporter: abstract new () => unknown;
    };
    expect(exporter).toBeInstanceOf(grpc.OTLPTraceExporter);
    expect(exporter).not.toBeInstanceOf(HttpJsonTraceExporter);
    void exporter.shutdown();
  });

  it('names the variable and the package to install when the exporter is not installed', () => {
    // Looked up from a directory with no node_modules: the package is absent there.
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-no-exporter-'));
    try {
      let caught: unknown;
      try {
        loadExporterPackage(
          'metrics',
          { protocol: 'grpc', variable: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL' },
          [empty],
        );
      } catch (error) {
        caught = error;
      }
      expect(caught, String(caught)).toBeInstanceOf(TollgateConfigError);
      expect((caught as TollgateConfigError).field).toBe('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL');
      expect((caught as Error).message).toContain('npm i @opentelemetry/exporter-metrics-otlp-grpc');
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});
