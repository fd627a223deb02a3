#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { isLoopbackHost } from './internal/loopback';
import { startMockProvider } from './mock-provider';

const USAGE = `Usage: tollgate-mock-provider [options]

Serves the OpenAI, Anthropic, Gemini API / Vertex AI and Bedrock Runtime wire protocols on a
loopback address (HTTP/1.1 and plain-text HTTP/2 on one port) until SIGINT/SIGTERM.

Options:
  --port <n>            port to listen on, 0 for any free port (default 4141)
  --host <address>      loopback address to bind (default 127.0.0.1)
  --latency <ms>        delay before the first byte of each response (default 0)
  --chunk-delay <ms>    delay between streamed events (default 0)
  --output-tokens <n>   output tokens per reply, capped by the request's max (default 16)
  -h, --help            show this help`;

function fail(message: string): never {
  process.stderr.write(`tollgate-mock-provider: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function numberOption(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (
    value.trim() === '' ||
    !Number.isFinite(number) ||
    number < 0 ||
    (integer && !Number.isInteger(number))
  ) {
    fail(`--${name} must be a ${integer ? 'whole ' : ''}number >= 0, got ${JSON.stringify(value)}`);
  }
  return number;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        latency: { type: 'string' },
        'chunk-delay': { type: 'string' },
        'output-tokens': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    fail(
      `--host ${JSON.stringify(host)} is not a loopback address; the mock only listens on 127.0.0.1, ::1 or localhost`,
    );
  }
  const port = numberOption('port', values.port as string | undefined, 4141, true);
  if (port > 65_535) fail(`--port must be at most 65535, got ${port}`);

  const mock = await startMockProvider({
    host,
    port,
    latencyMillis: numberOption('latency', values.latency as string | undefined, 0, false),
    chunkDelayMillis: numberOption('chunk-delay', values['chunk-delay'] as string | undefined, 0, false),
    outputTokens: numberOption('output-tokens', values['output-tokens'] as string | undefined, 16, true),
    recordRequests: false,
  });
  process.stdout.write(
    `tollgate mock provider listening on ${mock.url}\n` +
      `  OpenAI     baseURL ${mock.openaiBaseUrl}   (OPENAI_BASE_URL)\n` +
      `  Anthropic  baseURL ${mock.anthropicBaseUrl}   (ANTHROPIC_BASE_URL)\n` +
      `  Gemini     httpOptions.baseUrl ${mock.url}   (GOOGLE_GEMINI_BASE_URL, GOOGLE_VERTEX_BASE_URL)\n` +
      `  Bedrock    endpoint ${mock.url}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const billed = mock.billed();
    mock.close().then(
      () => {
        process.stdout.write(
          `${signal}: stopped after ${billed.requests} requests (${billed.inputTokens} input / ${billed.outputTokens} output tokens billed)\n`,
        );
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`tollgate-mock-provider: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
