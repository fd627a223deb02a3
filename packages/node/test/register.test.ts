import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const run = promisify(execFile);

interface Received {
  path: string;
  contentType: string;
  body: Record<string, unknown>;
}

/** A minimal OTLP/HTTP (JSON) receiver on a free loopback port. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // Logs (the contrib openai instrumentation emits some) come as protobuf: only JSON is read.
      const json = request.headers['content-type']?.includes('json');
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: json ? JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') : {},
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

type Attribute = { key: string; value: Record<string, unknown> };
const attributesOf = (list: Attribute[]) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

function spansIn(received: Received[]) {
  return received
    .filter((entry) => entry.path === '/v1/traces')
    .flatMap(
      (entry) =>
        (entry.body.resourceSpans as Array<{
          resource: { attributes: Attribute[] };
          scopeSpans: Array<{
            scope: { name: string };
            spans: Array<{ name: string; attributes: Attribute[] }>;
          }>;
        }>) ?? [],
    )
    .flatMap((resourceSpans) =>
      resourceSpans.scopeSpans.flatMap((scope) =>
        scope.spans.map((span) => ({
          scope: scope.scope.name,
          name: span.name,
          attributes: attributesOf(span.attributes),
          resource: attributesOf(resourceSpans.resource.attributes),
        })),
      ),
    );
}

function metricNames(received: Received[]): Set<string> {
  return new Set(
    received
      .filter((entry) => entry.path === '/v1/metrics')
      .flatMap(
        (entry) =>
          (entry.body.resourceMetrics as Array<{
            scopeMetrics: Array<{ metrics: Array<{ name: string }> }>;
          }>) ?? [],
      )
      .flatMap((resource) =>
        resource.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => metric.name)),
      ),
  );
}

let mock: MockProvider;
beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 8 });
});
afterAll(async () => {
  await mock.close();
});

async function runApp(args: string[], env: Record<string, string>) {
  const receiver = await startReceiver();
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: fixtures,
      timeout: 30_000,
      env: {
        ...process.env,
        ...env,
        MOCK_OPENAI_URL: mock.openaiBaseUrl,
        MOCK_ANTHROPIC_URL: mock.anthropicBaseUrl,
        MOCK_URL: mock.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      },
    });
    return { stdout, stderr, received: receiver.received };
  } finally {
    receiver.server.close();
  }
}

describe('@tollgate/node', { timeout: 60_000 }, () => {
  it('node --import @tollgate/node/register gates an unchanged app and exports spans and metrics over OTLP/HTTP', async () => {
    const { stdout, received } = await runApp(['--import', '@tollgate/node/register', 'app.mjs'], {
      TOLLGATE_CONFIG: join(fixtures, 'tollgate.yaml'),
    });
    expect(stdout).toContain('second call: BudgetExceededError');
    const spans = spansIn(received);
    expect(
      spans
        .filter((span) => span.attributes['tollgate.gate.decision'])
        .map((span) => `${span.name}:${span.attributes['tollgate.gate.decision']}`),
    ).toEqual(['chat gpt-4o-mini:allowed', 'chat gpt-4o:budget_exceeded', 'chat claude-haiku-4-5:allowed']);
    const claude = spans.find(
      (span) => span.name === 'chat claude-haiku-4-5' && span.attributes['tollgate.gate.decision'],
    )!;
    expect(claude.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'tollgate.usage.source': 'provider',
    });
    expect(spans[0]!.resource['service.name']).toBe('hook-app');
    expect(spans[0]!.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(spans[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'tollgate.usage.source': 'provider',
    });
    expect(spans[0]!.attributes['tollgate.cost.reconciled_usd']).toBeGreaterThan(0);
    const names = metricNames(received);
    for (const name of [
      'tollgate.cost',
      'tollgate.gate.decisions',
      'gen_ai.client.token.usage',
      'tollgate.budget.spent',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('node --import @tollgate/node/register gates an unchanged @google/genai app', async () => {
    const { stdout, stderr, received } = await runApp(
      ['--import', '@tollgate/node/register', 'gemini-app.mjs'],
      {
        TOLLGATE_CONFIG: join(fixtures, 'tollgate.yaml'),
      },
    );
    expect(stdout).toContain('uncapped call: BudgetExceededError');
    expect(stderr).not.toContain('TOLLGATE_UNGATED_CALL');
    const spans = spansIn(received).filter((span) => span.attributes['tollgate.gate.decision']);
    expect(spans.map((span) => `${span.name}:${span.attributes['tollgate.gate.decision']}`)).toEqual([
      'generate_content gemini-2.5-flash:allowed',
      'generate_content gemini-2.5-flash:budget_exceeded',
    ]);
    expect(spans[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'tollgate.usage.source': 'provider',
    });
  });

  it('node --import @tollgate/node/register gates an unchanged Vercel AI SDK app', async () => {
    mock.reset();
    const { stdout, stderr, received } = await runApp(
      ['--import', '@tollgate/node/register', 'ai-sdk-app.mjs'],
      {
        TOLLGATE_CONFIG: join(fixtures, 'tollgate.yaml'),
      },
    );
    expect(stdout).toContain('stream: Hello');
    expect(stdout).toContain('uncapped call: BudgetExceededError');
    expect(stderr).not.toContain('TOLLGATE_UNGATED_CALL');
    const spans = spansIn(received).filter((span) => span.attributes['tollgate.gate.decision']);
    expect(spans.map((span) => `${span.name}:${span.attributes['tollgate.gate.decision']}`)).toEqual([
      'chat gpt-4o-mini:allowed',
      'chat claude-haiku-4-5:allowed',
      'chat claude-haiku-4-5:budget_exceeded',
    ]);
    expect(spans[1]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'tollgate.usage.source': 'provider',
    });
    expect(mock.requests()).toHaveLength(2);
  });

  it('node --import @tollgate/node/register gates Amazon Bedrock Runtime calls with no code change', async () => {
    mock.reset();
    const { stdout, received } = await runApp(['--import', '@tollgate/node/register', 'bedrock-app.mjs'], {
      TOLLGATE_CONFIG: join(fixtures, 'tollgate.yaml'),
    });
    expect(stdout).toContain('second call: BudgetExceededError');
    expect(stdout).toContain('bedrock stream: done');
    const spans = spansIn(received).filter((span) => span.attributes['tollgate.gate.decision']);
    expect(spans.map((span) => `${span.name}:${span.attributes['tollgate.gate.decision']}`)).toEqual([
      'chat us.amazon.nova-lite-v1:0:allowed',
      'chat us.anthropic.claude-opus-4-1-20250805-v1:0:budget_exceeded',
      'chat us.amazon.nova-lite-v1:0:allowed',
    ]);
    expect(spans[2]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'aws.bedrock',
      'tollgate.usage.source': 'provider',
      'tollgate.price.model': 'amazon.nova-lite-v1:0',
    });
    // The refused call never reached the provider.
    expect(mock.requests().map((request) => request.model)).toEqual([
      'us.amazon.nova-lite-v1:0',
      'us.amazon.nova-lite-v1:0',
    ]);
  });

  it('register() in code does the same', async () => {
    const { stdout, received } = await runApp(['in-code.mjs'], {});
    expect(stdout).toContain('second call: BudgetExceededError');
    const spans = spansIn(received);
    expect(
      spans.filter((span) => span.attributes['tollgate.gate.decision']).map((span) => span.name),
    ).toEqual(['chat gpt-4o-mini', 'chat gpt-4o', 'chat claude-haiku-4-5']);
    expect(spans[0]!.resource['service.name']).toBe('in-code-app');
  });

  it('register() builds the tokenizers its configuration needs after start-up, with no call made', async () => {
    const { stdout } = await runApp(['warm-up.mjs'], {});
    expect(stdout).toContain('at start-up: claude=false');
    expect(stdout).toContain('later: claude=true gpt=false');
  });

  it('a CommonJS app run with --import charges withScope() tenants to their own budgets', async () => {
    const { stdout } = await runApp(['--import', '@tollgate/node/register', 'tenant-app.cjs'], {
      TOLLGATE_CONFIG: join(fixtures, 'tenant.yaml'),
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      calls: ['acme:allowed', 'acme:BudgetExceededError', 'beta:allowed'],
    });
  });

  const lastLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
  const gated = { calls: ['allowed', 'BudgetExceededError', 'allowed'] };

  it('an ES module app that calls register() in a module imported before the SDKs is gated from its first call', async () => {
    const { stdout, stderr, received } = await runApp(['static-app.mjs'], {});
    expect(lastLine(stdout)).toEqual(gated);
    expect(stderr).not.toContain('NOT gated');
    const names = spansIn(received)
      .filter((span) => span.attributes['tollgate.gate.decision'])
      .map((span) => span.name);
    expect(names).toEqual(['chat gpt-4o-mini', 'chat gpt-4o', 'chat claude-haiku-4-5']);
  });

  it('an ES module app that calls register() above the SDK imports in the same file is gated from its first call', async () => {
    const { stdout, stderr } = await runApp(['same-file-app.mjs'], {});
    expect(lastLine(stdout)).toEqual(gated);
    expect(stderr).not.toContain('NOT gated');
  });

  it('without require() of ES modules, the in-place patch lands after the static graph runs: the first call is ungated and both warnings say so', async () => {
    const { stdout, stderr, received } = await runApp(
      ['--no-experimental-require-module', 'static-app.mjs'],
      {},
    );
    expect(lastLine(stdout)).toEqual(gated);
    expect(stderr).toContain('[TOLLGATE_SDK_PATCHED_LATE]');
    expect(stderr).toMatch(/\[TOLLGATE_UNGATED_CALL\] .*openai .*\(POST \/v1\/chat\/completions\)/);
    const names = spansIn(received)
      .filter((span) => span.attributes['tollgate.gate.decision'])
      .map((span) => span.name);
    expect(names).toEqual(['chat gpt-4o', 'chat claude-haiku-4-5']);
  });

  it('a CommonJS app that required the SDKs before register() is gated from then on, with a warning', async () => {
    const { stdout, stderr } = await runApp(['late-app.cjs'], {});
    expect(lastLine(stdout)).toEqual(gated);
    expect(stderr).toContain('[TOLLGATE_SDK_PATCHED_LATE]');
    expect(stderr).toMatch(/openai \d+\.\d+\.\d+ at .* \(CommonJS\) was loaded before Tollgate started/);
    expect(stderr).toMatch(
      /@anthropic-ai\/sdk \d+\.\d+\.\d+ at .* \(CommonJS\) was loaded before Tollgate started/,
    );
  });

  it('a call from an SDK copy Tollgate cannot patch is not silent: a TOLLGATE_UNGATED_CALL warning names it', async () => {
    const vendored = mkdtempSync(join(tmpdir(), 'tollgate-vendored-'));
    try {
      const sdk = realpathSync(join(fixtures, '..', '..', 'node_modules', 'openai'));
      // The runnable files only: sources, declarations and maps would make this copy slow.
      cpSync(sdk, join(vendored, 'openai'), {
        recursive: true,
        filter: (source) => !/(\/src$|\.d\.m?ts$|\.map$)/.test(source),
      });
      const { stdout, stderr } = await runApp(['vendored-app.mjs'], {
        VENDORED_OPENAI_URL: pathToFileURL(join(vendored, 'openai', 'index.mjs')).href,
      });
      expect(lastLine(stdout)).toEqual({ calls: ['allowed'] });
      expect(stderr).toMatch(
        /\[TOLLGATE_UNGATED_CALL\] .*a call by openai \d+\.\d+\.\d+ \(POST \/v1\/chat\/completions\) was sent WITHOUT passing Tollgate's gate/,
      );
    } finally {
      rmSync(vendored, { recursive: true, force: true });
    }
  });

  it('an ungated @google/genai call is named by the TOLLGATE_UNGATED_CALL warning', async () => {
    const { stdout, stderr } = await runApp(['gemini-ungated-app.mjs'], {});
    expect(stdout).toContain('sent');
    expect(stderr).toMatch(
      /\[TOLLGATE_UNGATED_CALL\] .*a call by @google\/genai \d+\.\d+\.\d+ \(POST \/v1beta\/models\/gemini-2\.5-flash:generateContent\) was sent WITHOUT/,
    );
  });

  it('gated calls raise no TOLLGATE_UNGATED_CALL warning', async () => {
    const { stderr } = await runApp(['static-app.mjs'], {});
    expect(stderr).not.toContain('TOLLGATE_UNGATED_CALL');
  });

  // The gate must hold next to @opentelemetry/instrumentation-openai, which these enable by default.
  describe('next to getNodeAutoInstrumentations()', () => {
    async function expectGatedNextToContrib(args: string[], env: Record<string, string>) {
      mock.reset();
      const { stdout, stderr, received } = await runApp(args, env);
      expect(stdout).toContain('second call: BudgetExceededError');
      expect(stdout).toContain('anthropic stream: done');
      // The refused call never reached the provider: one openai and one Anthropic request.
      expect(mock.requests().map((request) => request.endpoint)).toEqual(['chat.completions', 'messages']);
      const spans = spansIn(received);
      expect(
        spans
          .filter((span) => span.attributes['tollgate.gate.decision'])
          .map((span) => `${span.name}:${span.attributes['tollgate.gate.decision']}`),
      ).toEqual(['chat gpt-4o-mini:allowed', 'chat gpt-4o:budget_exceeded', 'chat claude-haiku-4-5:allowed']);
      const settled = spans.find(
        (span) => span.name === 'chat gpt-4o-mini' && span.attributes['tollgate.gate.decision'],
      );
      expect(settled!.attributes['tollgate.cost.reconciled_usd']).toBeGreaterThan(0);
      // Both spans exist; the user is told how to turn the other one off.
      expect(spans.some((span) => span.scope === '@opentelemetry/instrumentation-openai')).toBe(true);
      expect(stderr).toContain('[TOLLGATE_OTHER_INSTRUMENTATION]');
      expect(stderr).toContain('OTEL_NODE_DISABLED_INSTRUMENTATIONS=openai');
    }

    it('register({ instrumentations: [getNodeAutoInstrumentations()] }) gates every call', async () => {
      await expectGatedNextToContrib(['with-auto-instrumentations.mjs'], {});
    });

    it('register() starts no logs pipeline the user did not ask for, though the contrib instrumentation emits logs', async () => {
      mock.reset();
      const { received } = await runApp(['with-auto-instrumentations.mjs'], {});
      expect(received.map((entry) => entry.path)).toContain('/v1/traces');
      expect(received.map((entry) => entry.path)).not.toContain('/v1/logs');
    });

    it.each(['first', 'last'])(
      "the app's own NodeSDK with getNodeAutoInstrumentations() and Tollgate's instrumentations %s gates every call",
      async (order) => {
        await expectGatedNextToContrib(['own-sdk.mjs'], { TOLLGATE_ORDER: order });
      },
    );

    it('OTEL_NODE_DISABLED_INSTRUMENTATIONS=openai leaves only the Tollgate span', async () => {
      mock.reset();
      const { stdout, stderr, received } = await runApp(['with-auto-instrumentations.mjs'], {
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'openai',
      });
      expect(stdout).toContain('second call: BudgetExceededError');
      expect(spansIn(received).some((span) => span.scope === '@opentelemetry/instrumentation-openai')).toBe(
        false,
      );
      expect(stderr).not.toContain('TOLLGATE_OTHER_INSTRUMENTATION');
    });
  });

  describe('OTLP protocol', () => {
    const typesOf = (received: Received[], path: string) =>
      new Set(received.filter((entry) => entry.path === path).map((entry) => entry.contentType));

    it('http/json by default', async () => {
      const { received } = await runApp(['in-code.mjs'], {});
      expect(typesOf(received, '/v1/traces')).toEqual(new Set(['application/json']));
      expect(typesOf(received, '/v1/metrics')).toEqual(new Set(['application/json']));
    });

    it('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf is honoured, and a per-signal variable overrides it', async () => {
      const { stdout, received } = await runApp(['in-code.mjs'], {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      });
      expect(stdout).toContain('second call: BudgetExceededError');
      expect(typesOf(received, '/v1/traces')).toEqual(new Set(['application/json']));
      expect(spansIn(received).filter((span) => span.attributes['tollgate.gate.decision'])).toHaveLength(3);
      expect(typesOf(received, '/v1/metrics')).toEqual(new Set(['application/x-protobuf']));
    });

    it('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/protobuf applies to metrics only', async () => {
      const { received } = await runApp(['in-code.mjs'], {
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      });
      expect(typesOf(received, '/v1/traces')).toEqual(new Set(['application/json']));
      expect(typesOf(received, '/v1/metrics')).toEqual(new Set(['application/x-protobuf']));
    });

    it('an unknown protocol is refused at startup, naming the variable', async () => {
      const error = (await runApp(['--import', '@tollgate/node/register', 'app.mjs'], {
        TOLLGATE_CONFIG: join(fixtures, 'tollgate.yaml'),
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/xml',
      }).catch((caught: unknown) => caught)) as { stderr?: string };
      expect(error.stderr).toContain('Invalid Tollgate config at OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
    });
  });

  it('OTEL_SDK_DISABLED=true exports nothing, yet calls are gated with a context manager and no warning', async () => {
    mock.reset();
    const { stdout, stderr, received } = await runApp(['--import', '@tollgate/node/register', 'app.mjs'], {
      TOLLGATE_CONFIG: join(fixtures, 'tollgate.yaml'),
      OTEL_SDK_DISABLED: 'true',
    });
    expect(stdout).toContain('second call: BudgetExceededError');
    expect(stdout).toContain('anthropic stream: done');
    expect(mock.requests().map((request) => request.endpoint)).toEqual(['chat.completions', 'messages']);
    expect(stderr).not.toContain('TOLLGATE_NO_CONTEXT_MANAGER');
    expect(received).toEqual([]);
  });

  it("an app's own SIGTERM handler runs once, and the telemetry is still flushed", async () => {
    const { stdout, received } = await runApp(['own-signal-handler.mjs'], {});
    expect(stdout.trim().split('\n')).toEqual(['call: allowed', 'app SIGTERM handler', 'app exits']);
    expect(spansIn(received).map((span) => span.attributes['tollgate.gate.decision'])).toEqual(['allowed']);
  });

  it('without a handler of its own, SIGTERM still ends the app after the flush', async () => {
    const error = (await runApp(['own-signal-handler.mjs'], { NO_APP_HANDLER: '1' }).catch(
      (caught: unknown) => caught,
    )) as { signal?: string; stdout?: string };
    expect(error.signal).toBe('SIGTERM');
    expect(error.stdout?.trim()).toBe('call: allowed');
  });

  it('refuses an invalid config file at startup, naming the field', async () => {
    const error = (await runApp(['--import', '@tollgate/node/register', 'app.mjs'], {
      TOLLGATE_CONFIG: join(fixtures, 'bad.yaml'),
    }).catch((caught: unknown) => caught)) as { stderr: string };
    expect(error.stderr).toContain('Invalid Tollgate config at budgets[0].limit.usd');
  });
});

describe('@tollgate/node with a self-hosted OpenAI-compatible server in the config file', {
  timeout: 60_000,
}, () => {
  /** A config file naming the mock provider's base URL as provider "vllm", written where the test can reach it. */
  function configFile(providers: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-compatible-'));
    const path = join(dir, 'tollgate.yaml');
    writeFileSync(
      path,
      [
        'guard:',
        '  providers:',
        providers,
        '  budgets:',
        '    - id: vllm-tokens',
        '      limit: { tokens: 300 }',
        '      window: day',
        '      match: { provider: vllm }',
        'metricExportIntervalMillis: 200',
      ].join('\n'),
    );
    return path;
  }

  it('names its calls by base URL and holds them to a token budget for that provider', async () => {
    mock.reset();
    const config = configFile(
      [
        '    - name: vllm',
        `      baseURL: ${mock.openaiBaseUrl}/`,
        '      prices: { "*": { input: 0, output: 0 } }',
      ].join('\n'),
    );
    try {
      const { stdout, received } = await runApp(
        ['--import', '@tollgate/node/register', 'compatible-app.mjs'],
        {
          TOLLGATE_CONFIG: config,
        },
      );
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
        calls: ['allowed', 'BudgetExceededError'],
      });
      expect(mock.requests()).toHaveLength(1);
      const spans = spansIn(received).filter((span) => span.attributes['tollgate.gate.decision']);
      expect(spans.map((span) => span.attributes)).toEqual([
        expect.objectContaining({
          'gen_ai.provider.name': 'vllm',
          'tollgate.gate.decision': 'allowed',
          'tollgate.cost.reconciled_usd': 0,
        }),
        expect.objectContaining({
          'gen_ai.provider.name': 'vllm',
          'tollgate.gate.decision': 'budget_exceeded',
        }),
      ]);
    } finally {
      rmSync(dirname(config), { recursive: true, force: true });
    }
  });

  it('refuses a provider that takes a built-in name at startup, naming the field', async () => {
    const config = configFile(['    - name: openai', `      baseURL: ${mock.openaiBaseUrl}`].join('\n'));
    try {
      const error = (await runApp(['--import', '@tollgate/node/register', 'compatible-app.mjs'], {
        TOLLGATE_CONFIG: config,
      }).catch((caught: unknown) => caught)) as { stderr: string };
      expect(error.stderr).toContain('Invalid Tollgate config at providers[0].name');
    } finally {
      rmSync(dirname(config), { recursive: true, force: true });
    }
  });
});
