import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const examplesDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs an example the way `pnpm --filter @tollgate/example-<name> start` does — its `start`
 * script, in its folder — and returns what it printed. Rejects on a non-zero exit code.
 */
async function runExample(name: string): Promise<{ stdout: string; stderr: string }> {
  const cwd = join(examplesDir, name);
  const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as {
    name: string;
    scripts: { start: string };
  };
  expect(manifest.name).toBe(`@tollgate/example-${name}`);
  // Every start script is a plain `node …` command: run it with this Node, no shell, no pnpm.
  const [command, ...args] = manifest.scripts.start.split(' ');
  expect(command).toBe('node');
  return run(process.execPath, args, {
    cwd,
    timeout: 55_000,
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
  });
}

describe('examples run by themselves and tell their story', { timeout: 60_000 }, () => {
  it('openai-quickstart: the refused call never reaches the provider', async () => {
    const { stdout, stderr } = await runExample('openai-quickstart');
    const summary = stdout.match(
      /The mock provider served (\d+) requests; call (\d+) was refused by the gate/,
    );
    expect(summary, stdout).not.toBeNull();
    expect(Number(summary![1])).toBe(Number(summary![2]) - 1);
    expect(stdout).toContain('requests the mock provider received for this call: 0');
    expect(stdout).toMatch(/chat gpt-4o\s+tollgate\.gate\.decision=budget_exceeded/);
    expect(stderr).toBe('');
  });

  it('openai-compatible: two self-hosted servers named by base URL, each held by its own budget and limit', async () => {
    const { stdout, stderr } = await runExample('openai-compatible');
    expect(stdout).toMatch(/vllm {3}#1 {2}sent {5}gen_ai\.provider\.name=vllm .*settled \$0\.0000[1-9]/);
    expect(stdout).toMatch(/ollama #1 {2}sent {5}gen_ai\.provider\.name=ollama .*settled \$0\.000000 /);
    expect(stdout).toMatch(
      /vllm {3}#4 {2}REFUSED {2}BudgetExceededError by budget "daily-usd".*requests sent for it: 0/,
    );
    expect(stdout).toMatch(
      /ollama #3 {2}REFUSED {2}BudgetExceededError by budget "ollama-tokens".*requests sent for it: 0/,
    );
    expect(stdout).toMatch(
      /ollama #6 {2}REFUSED {2}RateLimitedError by rate limit "ollama:llama3\.2"; requests sent for it: 0/,
    );
    expect(stdout).toContain('The servers received 3 (vLLM) and 4 (Ollama) requests');
    expect(stderr).toBe('');
  });

  it('anthropic-streaming: both streams settle from provider usage, the abandoned one from a local count', async () => {
    const { stdout, stderr } = await runExample('anthropic-streaming');
    expect(stdout.match(/tollgate\.usage\.source=provider/g)).toHaveLength(2);
    expect(stdout).toMatch(/tollgate\.usage\.source=local_count .*tollgate\.stream\.interrupted=true/);
    expect(stdout).toMatch(/gen_ai\.usage\.output_tokens=40 {2}\(mock provider billed \d+ \/ 40\)/);
    expect(stdout).toContain('$0.000000 still reserved');
    expect(stderr).toBe('');
  });

  it('gate-demo: openai, Anthropic and Gemini calls gated; refused calls never reach the provider', async () => {
    const { stdout, stderr } = await runExample('gate-demo');
    expect(stdout).toMatch(
      /generate_content gemini-2\.5-flash\s+allowed\s+\d+\/120\s+\$\S+\s+\$\S+\s+provider/,
    );
    expect(stdout).toMatch(/chat claude-haiku-4-5\s+allowed\s+\d+\/120\s+\$\S+\s+\$\S+\s+provider/);
    expect(stdout).toMatch(/chat gpt-4o\s+budget_exceeded/);
    const outcomes = stdout.match(/Outcomes: (\d+) allowed, (\d+) rate-limited, (\d+) refused by a budget\./);
    const served = stdout.match(/The mock provider served (\d+) requests/);
    expect(outcomes, stdout).not.toBeNull();
    expect(Number(outcomes![2])).toBeGreaterThan(0);
    expect(Number(outcomes![3])).toBeGreaterThan(0);
    expect(served![1]).toBe(outcomes![1]);
    expect(stderr).toBe('');
  });

  it('response-cache: repeated FAQ calls and a replayed stream send nothing and cost nothing', async () => {
    const { stdout, stderr } = await runExample('response-cache');
    expect(stdout.match(/requests sent: 0, same result as call 1: true/g)).toHaveLength(2);
    expect(stdout).toContain('stream 2: 42 chunks, requests sent: 0');
    expect(stdout).toContain('identical chunks: true');
    expect(stdout).toMatch(
      /tollgate\.cache\.hit=true {2}tollgate\.cost\.reconciled_usd=\$0\.000000 {2}tollgate\.cost\.saved_usd=\$0\.0000\d\d/,
    );
    expect(stdout).toContain('The mock provider served 3 requests for 6 calls');
    expect(stderr).toBe('');
  });

  it('google-genai: the Gemini stream settles from usageMetadata; the refused call never reaches the provider', async () => {
    const { stdout, stderr } = await runExample('google-genai');
    expect(stdout).toContain('requests the mock provider received for this call: 0');
    expect(stdout).toMatch(/generate_content gemini-2\.5-pro {2}tollgate\.gate\.decision=budget_exceeded/);
    const billed = stdout.match(/the mock provider billed (\d+) \/ (\d+) tokens in all/);
    expect(billed, stdout).not.toBeNull();
    expect(stdout).toContain(
      `gen_ai.usage.input_tokens=${billed![1]}  gen_ai.usage.output_tokens=${billed![2]}  tollgate.usage.source=provider`,
    );
    expect(stdout).toContain('$0.000000 still reserved');
    expect(stderr).toBe('');
  });

  it('ai-sdk: the stream settles from its finish part, each tool-loop step is gated under its AI SDK span, the refused call never reaches the provider', async () => {
    const { stdout, stderr } = await runExample('ai-sdk');
    expect(stdout).toContain('requests the mock provider received for this call: 0');
    expect(stdout).toMatch(/chat gpt-4o {2}tollgate\.gate\.decision=budget_exceeded/);
    expect(stdout).toMatch(
      /ai\.generateText\n\s+ai\.generateText\.doGenerate\n\s+chat claude-haiku-4-5\n\s+ai\.toolCall\n\s+ai\.generateText\.doGenerate\n\s+chat claude-haiku-4-5/,
    );
    expect(stdout.match(/tollgate\.usage\.source=provider/g)).toHaveLength(3);
    const billed = stdout.match(/the mock provider billed (\d+) \/ (\d+) tokens in 3 requests/);
    const settled = [
      ...stdout.matchAll(/gen_ai\.usage\.input_tokens=(\d+) {2}gen_ai\.usage\.output_tokens=(\d+)/g),
    ];
    expect(billed, stdout).not.toBeNull();
    expect(settled.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(Number(billed![1]));
    expect(settled.reduce((sum, match) => sum + Number(match[2]), 0)).toBe(Number(billed![2]));
    expect(stdout).toContain('$0.000000 still reserved');
    expect(stderr).toBe('');
  });

  it('openai-compatible azure: deployments priced as the models they serve, under azure.ai.openai', async () => {
    const { stdout, stderr } = await run(process.execPath, ['azure.mjs'], {
      cwd: join(examplesDir, 'openai-compatible'),
      timeout: 55_000,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    });
    expect(stdout).toMatch(
      /#1 {2}sent {5}deployment=batch-mini {2}gen_ai\.provider\.name=azure\.ai\.openai {2}priced as gpt-4o-mini /,
    );
    expect(stdout).toMatch(
      /#2 {2}sent {5}deployment=prod-gpt4o .* priced as gpt-4o {2}settled \$0\.00[0-9]*[1-9]/,
    );
    expect(stdout).toMatch(
      /#3 {2}REFUSED {2}BudgetExceededError by budget "azure-daily".*requests sent for it: 0/,
    );
    expect(stdout).toContain('The endpoint received 2 requests');
    expect(stderr).toBe('');
  });

  it("ai-sdk failover: once the circuit opens, the same calls are answered by the other provider's model", async () => {
    const { stdout, stderr } = await run(process.execPath, ['failover.mjs'], {
      cwd: join(examplesDir, 'ai-sdk'),
      timeout: 55_000,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    });
    expect(stdout).toContain('call 3: failed: AI_APICallError (503)');
    expect(stdout).toContain('call 4: answered by claude-haiku-4-5');
    expect(stdout).toContain(
      'model-fallback (circuit-open): openai:gpt-4o-mini -> anthropic:claude-haiku-4-5',
    );
    expect(stdout).toContain(
      'The mock provider served: openai:503, openai:503, openai:503, anthropic:200, anthropic:200, anthropic:200',
    );
    expect(stdout).toMatch(
      /chat claude-haiku-4-5 {2}gen_ai\.provider\.name=anthropic {2}\(asked for openai:gpt-4o-mini\)/,
    );
    expect(stdout).toContain('$0.000000 still reserved');
    expect(stderr).toBe('');
  });

  it('bedrock: Converse and ConverseStream settle from provider usage; the refused call never reaches the provider', async () => {
    const { stdout, stderr } = await runExample('bedrock');
    expect(stdout).toContain('requests the mock provider received for this call: 0');
    expect(stdout).toMatch(/chat us\.anthropic\.claude-opus-\S+ {2}tollgate\.gate\.decision=budget_exceeded/);
    expect(stdout.match(/tollgate\.usage\.source=provider/g)).toHaveLength(2);
    const billed = stdout.match(/the mock provider billed (\d+) \/ (\d+) tokens in all/);
    const settled = [
      ...stdout.matchAll(/gen_ai\.usage\.input_tokens=(\d+) {2}gen_ai\.usage\.output_tokens=(\d+)/g),
    ];
    expect(billed, stdout).not.toBeNull();
    expect(settled.reduce((sum, [, input]) => sum + Number(input), 0)).toBe(Number(billed![1]));
    expect(settled.reduce((sum, [, , output]) => sum + Number(output), 0)).toBe(Number(billed![2]));
    expect(stdout).toContain('$0.000000 still reserved');
    // On Node.js 20 the AWS SDK warns that its future releases need Node.js 22; nothing else may reach stderr.
    expect(
      stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/, ''),
    ).toBe('');
  });

  it('multi-tenant-server: 429s never reach the provider; each tenant hits its own limit', async () => {
    const { stdout, stderr } = await runExample('multi-tenant-server');
    const summary = stdout.match(
      /(\d+) answered, (\d+) refused with 429; the mock provider received (\d+) requests/,
    );
    expect(summary, stdout).not.toBeNull();
    expect(summary![3]).toBe(summary![1]);
    expect(Number(summary![2])).toBeGreaterThan(0);
    // acme is rate-limited, globex runs out of budget, initech hits the trial policy.
    expect(stdout).toMatch(/acme .* \d+ s /);
    expect(stdout).toMatch(/globex\s.*\s+0\s+[1-9]\d*\s+0\s/);
    expect(stdout).toMatch(/initech\s.*\s+0\s+0\s+[1-9]\d*\s/);
    expect(stdout).toContain('Server and mock provider closed.');
    expect(stderr).toBe('');
  });

  it('batch-priorities: interactive calls overtake queued background ones; the batch is deferred', async () => {
    const { stdout, stderr } = await runExample('batch-priorities');
    expect(stdout).toMatch(/interactive\s+support-chat alice .*← ahead of [1-9] digests queued before it/);
    expect(stdout).toMatch(/DEFERRED {2}rule "hold-batch" \(defer\)/);
    expect(stdout).toMatch(/interactive\s+support-chat dave\s+sent/);
    expect(stdout).toMatch(/the [1-9] deferred reports never reached it/);
    expect(stderr).toBe('');
  });

  it('cheaper-model-fallback: past half the budget the provider receives gpt-4o-mini', async () => {
    const { stdout, stderr } = await runExample('cheaper-model-fallback');
    expect(stdout).toMatch(/^ {3}1 {2}gpt-4o {5}gpt-4o {7}/m);
    expect(stdout).toMatch(/gpt-4o-mini\s+\d+ % → fallback/);
    expect(stdout).toContain('tollgate.fallback.from_model=gpt-4o');
    expect(stderr).toBe('');
  });

  it('circuit-breaker: a 5xx burst opens the circuit, refusals send nothing, a probe closes it', async () => {
    const { stdout, stderr } = await runExample('circuit-breaker');
    expect(stdout).toContain('closed → open (error-rate)');
    expect(stdout).toMatch(/call 4: CircuitOpenError .* never reached the provider/);
    expect(stdout).toContain('half-open → closed (probe succeeded)');
    expect(stdout).toContain('closed → open (spend-rate)');
    expect(stdout).toContain('The mock provider served 8 requests in all.');
    expect(stderr).toBe('');
  });

  it('runaway-agent: a retry loop, a stuck agent and a fan-out are refused before sending; other tenants proceed', async () => {
    const { stdout, stderr } = await runExample('runaway-agent');
    expect(stdout).toContain(
      'attempt 4: REFUSED  LoopDetectedError rule=retry-storm count=3 retryAfterMs≈60s; requests sent: 0',
    );
    expect(stdout).toContain('step 6: REFUSED  LoopDetectedError rule=agent-steps count=5');
    expect(stdout).toMatch(/REFUSED {2}BudgetExceededError budget=tenant-spend-rate tenant=initech/);
    expect(stdout).toContain('tenant globex summarises a ticket: sent');
    const tickets = stdout.match(/tickets 1–(\d+) were sent/);
    expect(tickets, stdout).not.toBeNull();
    // 3 retries + globex + 5 agent steps + the tickets sent + globex's ticket.
    expect(stdout).toContain(
      `The mock provider served ${3 + 1 + 5 + Number(tickets![1]) + 1} requests; 4 calls were refused before sending.`,
    );
    expect(stderr).toBe('');
  });

  it('redis-shared-budget: two processes never overspend one Redis budget', async () => {
    const { stdout, stderr } = await runExample('redis-shared-budget');
    if (stdout.includes('redis-server was not found') && process.env.CI !== 'true') return;
    const summary = stdout.match(/(\d+) calls in all; the mock provider served (\d+)\./);
    expect(summary, stdout).not.toBeNull();
    expect(summary![2]).toBe(summary![1]);
    const spent = stdout.match(/"team-daily" is at \$(\d+\.\d+) spent, \$0\.000000 reserved/);
    expect(spent, stdout).not.toBeNull();
    expect(Number(spent![1])).toBeLessThanOrEqual(0.02);
    expect(stdout).toContain('redis-server stopped and its directory removed.');
    expect(stderr).toBe('');
  });
});
