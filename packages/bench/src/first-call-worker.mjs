// One fresh process, one first call: how long the first gated call after start-up takes, and
// how it was estimated. Run by first-call.mjs once per mode and repetition; prints one JSON line.
//
// Modes:
//   raw          the unpatched SDK (what a first call costs without Tollgate: JIT, connection)
//   gate-waits   full gate told to build tokenizers on the call and not warm up
//                (`estimator: { waitForTokenizer: true, warmUp: false }`): the first call builds o200k_base
//   gate-bound   full gate with defaults: the warm-up is scheduled after start-up and the first call,
//                sent at once, is estimated by the byte bound
//   gate-warmed  full gate with defaults, first call sent once the warm-up has finished
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const [mode, baseURL] = process.argv.slice(2);
const started = performance.now();
let guard;
const methods = [];
if (mode !== 'raw') {
  const { setUpTelemetry } = await import('./telemetry-setup.mjs');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { createGuard } = await import('@tollgate/core');
  const { OpenAIInstrumentation } = await import('@tollgate/instrumentation-openai');
  const { gatedConfig } = await import('./workloads.mjs');
  setUpTelemetry();
  const estimator = mode === 'gate-waits' ? { waitForTokenizer: true, warmUp: false } : {};
  guard = createGuard({ ...gatedConfig(), estimator });
  guard.onDecision((event) => methods.push(event.estimateMethod), ['allowed']);
  registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
}
// Required after the instrumentation registered its hook, as an application would (CommonJS).
const { OpenAI } = createRequire(import.meta.url)('openai');
const client = new OpenAI({ apiKey: 'bench', baseURL, maxRetries: 0 });
const startupMs = performance.now() - started;

if (mode === 'gate-warmed') {
  const { warmUpTokenizer } = await import('@tollgate/core');
  await warmUpTokenizer('gpt-4o-mini');
}
const body = {
  model: 'gpt-4o-mini',
  max_tokens: 64,
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Summarise the quarterly report in three bullet points.' },
  ],
};
const time = async () => {
  const at = performance.now();
  await client.chat.completions.create(body);
  return performance.now() - at;
};
const firstMs = await time();
const secondMs = await time();
await guard?.close();
process.stdout.write(
  `${JSON.stringify({ mode, startupMs, firstMs, secondMs, firstMethod: methods[0] ?? null })}\n`,
);
process.exit(0);
