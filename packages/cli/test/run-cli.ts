import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built binary, run as a person would: `node dist/cli.js …`. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fails clearly when the package was not built (the tests run the real binary). */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm --filter @tollgate/cli build\` first`);
}

/** Runs the CLI with `args`, optional standard input, and a clean colour environment (not a TTY). */
export function runCli(
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMillis?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Only what the test gives: no TOLLGATE_REDIS_URL or colour settings from the caller's shell.
    const { TOLLGATE_REDIS_URL: _url, FORCE_COLOR: _force, NO_COLOR: _no, ...inherited } = process.env;
    const env: NodeJS.ProcessEnv = { ...inherited, ...options.env };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `tollgate ${args.join(' ')} did not exit within ${options.timeoutMillis ?? 20_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMillis ?? 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** No Node or V8 stack frame in the output: errors are one clear line. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]/m.test(text);
}
