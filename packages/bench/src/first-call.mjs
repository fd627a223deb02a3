// The first call after process start: each mode in fresh processes, interleaved, so the
// tokenizer build, the JIT and the first connection are all in the figure.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fixed, median, table } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const MODES = [
  ['raw', 'raw openai SDK'],
  ['gate-waits', 'full gate, tokenizer built on the first call (no warm-up, `waitForTokenizer: true`)'],
  ['gate-bound', 'full gate, defaults: first call sent at once after start-up'],
  ['gate-warmed', 'full gate, defaults: first call sent after the warm-up finished'],
];

const run = promisify(execFile);

/** One fresh process; asynchronous, so the mock provider in this process keeps answering. */
async function runOnce(mode, baseURL) {
  const { stdout } = await run(process.execPath, [join(here, 'first-call-worker.mjs'), mode, baseURL], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/**
 * Runs every mode `processes` times, interleaved, against the mock at `baseURL`.
 *
 * @returns The report section and the check for the "never on a call's path" target.
 */
export async function firstCallSection(baseURL, { processes, log }) {
  const results = new Map(MODES.map(([mode]) => [mode, []]));
  for (let round = 0; round < processes; round++) {
    for (const [mode] of MODES) results.get(mode).push(await runOnce(mode, baseURL));
    log?.(`   first call: round ${round + 1}/${processes}`);
  }
  const stat = (mode, field) => median(results.get(mode).map((result) => result[field]));
  const raw = stat('raw', 'firstMs');
  const rows = MODES.map(([mode, label]) => {
    const methods = [...new Set(results.get(mode).map((result) => result.firstMethod ?? '—'))].join(', ');
    return [
      label,
      fixed(stat(mode, 'startupMs'), 1),
      fixed(stat(mode, 'firstMs'), 2),
      mode === 'raw' ? '—' : fixed(stat(mode, 'firstMs') - raw, 2),
      fixed(stat(mode, 'secondMs'), 2),
      methods,
    ];
  });
  const bound = stat('gate-bound', 'firstMs');
  const waits = stat('gate-waits', 'firstMs');
  return {
    section: {
      title: '8. First call after process start',
      body: table(
        [
          'mode',
          'start-up ms',
          'first call ms',
          'first call over raw ms',
          'second call ms',
          'first call estimated by',
        ],
        rows,
      ),
      note:
        `Medians of ${processes} fresh processes per mode, interleaved; each process sets up OpenTelemetry, the guard (budgets and limits as in section 2) and the instrumentation, then sends one chat call and a second one. ` +
        'Start-up: from the first import to a client ready to call. With the defaults the guard builds the tokenizers its configuration needs in slices after start-up; a call that arrives first is estimated by its UTF-8 byte length (an upper bound; the settlement replaces it with the billed usage).',
    },
    check: {
      target: 'First call after process start: the tokenizer build is not on the call path',
      measured: `first call ${fixed(bound, 1)} ms with the warm-up, ${fixed(waits, 1)} ms when the call builds the tokenizer (raw SDK ${fixed(raw, 1)} ms)`,
      met: results.get('gate-bound').every((result) => result.firstMethod === 'byte-bound') && bound < waits,
    },
  };
}
