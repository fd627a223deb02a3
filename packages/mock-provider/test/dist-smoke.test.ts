import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(packageRoot, 'dist', 'cli.js');

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8' }).trim();
}

// Starts the built server through the exports map, makes one real HTTP call, reports what it billed.
const probe = `
  m.startMockProvider({ outputTokens: 3 }).then(async (mock) => {
    const response = await fetch(mock.openaiBaseUrl + '/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = await response.json();
    await mock.close();
    console.log([body.choices[0].message.content, mock.billed().outputTokens, m.mockOutputText(2)].join('|'));
  });
`;

describe('built output', { timeout: 60_000 }, () => {
  it('loads through require()', () => {
    expect(runNode(['-e', `const m = require('@tollgate/mock-provider'); ${probe}`])).toBe(
      'Hello world this|3|Hello world',
    );
  });

  it('loads through import', () => {
    expect(
      runNode(['--input-type=module', '-e', `import * as m from '@tollgate/mock-provider'; ${probe}`]),
    ).toBe('Hello world this|3|Hello world');
  });
});

describe('tollgate-mock-provider CLI', { timeout: 60_000 }, () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('serves the SDKs until SIGTERM, then exits cleanly', async () => {
    child = spawn(process.execPath, [cli, '--port', '0', '--output-tokens', '4', '--latency', '1'], {
      cwd: packageRoot,
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child?.stdout.on('data', (chunk: string) => {
        output += chunk;
        const match = /OpenAI\s+baseURL (\S+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child?.once('exit', (code) => reject(new Error(`CLI exited early with ${code}: ${output}`)));
    });

    const openai = new OpenAI({ baseURL: baseUrl, apiKey: 'k', maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello world this is');
    expect(output).toMatch(/Anthropic\s+baseURL http:\/\/127\.0\.0\.1:\d+\s/);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(output).toContain('stopped after 1 requests');
  });

  it('refuses a non-loopback host with a clear error', () => {
    let failure: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, [cli, '--host', '0.0.0.0'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(2);
    expect(failure.stderr).toContain('"0.0.0.0" is not a loopback address');
  });
});
