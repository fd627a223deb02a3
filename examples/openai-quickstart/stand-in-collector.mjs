// A stand-in for an OpenTelemetry Collector: register() exports traces and metrics over OTLP/HTTP,
// and this gives them a loopback address to land on so the example can show what arrived.
// With OTEL_EXPORTER_OTLP_ENDPOINT already set, nothing is started and your collector receives them.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

/**
 * Starts the stand-in on a free loopback port and points OTEL_EXPORTER_OTLP_ENDPOINT at it.
 * Call it before register(): the exporters read the variable when they are created.
 */
export async function startStandInCollector() {
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const received = { traces: [], metrics: [], otherRequests: 0 };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const json = request.headers['content-type']?.startsWith('application/json');
      if (json && request.url === '/v1/traces') received.traces.push(JSON.parse(body.toString('utf8')));
      else if (json && request.url === '/v1/metrics')
        received.metrics.push(JSON.parse(body.toString('utf8')));
      else received.otherRequests++;
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? '{}' : undefined);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = url;
  return {
    url,
    /** Every span received, flattened, with its attributes as a plain object. */
    spans: () =>
      received.traces.flatMap((payload) =>
        (payload.resourceSpans ?? []).flatMap((resourceSpans) =>
          (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
            (scopeSpans.spans ?? []).map((span) => ({ name: span.name, attributes: plain(span.attributes) })),
          ),
        ),
      ),
    /** Names of the metrics received. */
    metricNames: () => [
      ...new Set(
        received.metrics.flatMap((payload) =>
          (payload.resourceMetrics ?? []).flatMap((resourceMetrics) =>
            (resourceMetrics.scopeMetrics ?? []).flatMap((scopeMetrics) =>
              (scopeMetrics.metrics ?? []).map((metric) => metric.name),
            ),
          ),
        ),
      ),
    ],
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** OTLP/JSON attributes (`[{ key, value: { stringValue | intValue | … } }]`) as `{ key: value }`. */
function plain(attributes = []) {
  return Object.fromEntries(
    attributes.map(({ key, value }) => {
      const [kind, raw] = Object.entries(value)[0] ?? [];
      if (kind === 'arrayValue') return [key, (raw.values ?? []).map((item) => Object.values(item)[0])];
      return [key, kind === 'intValue' ? Number(raw) : raw];
    }),
  );
}
