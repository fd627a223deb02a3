// Plain openai SDK calls; the circuit breakers come from telemetry.mjs.
import { CircuitOpenError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { guard } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 20 });
const client = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
const ask = (model, maxTokens = 50) =>
  client.chat.completions.create({
    model,
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: 'Status?' }],
  });

async function attempt(label, model, maxTokens) {
  const served = mock.requests().length;
  try {
    await ask(model, maxTokens);
    console.log(`        ${label}: answered`);
  } catch (error) {
    const reached = mock.requests().length > served ? 'reached the provider' : 'never reached the provider';
    const detail = CircuitOpenError.isInstance(error)
      ? `${error.reason}, retry in ${error.retryAfterMs} ms`
      : `HTTP ${error.status}`;
    console.log(`        ${label}: ${error.constructor.name} (${detail}) — ${reached}`);
  }
}

console.log('Tollgate circuit breakers — real openai SDK calls against the bundled mock provider.\n');
console.log('1) The provider starts failing: three 500s in a row open the gpt-4o-mini circuit.');
mock.inject({ status: 500, times: 3 });
for (let i = 1; i <= 3; i++) await attempt(`call ${i}`, 'gpt-4o-mini');

console.log('\n2) While open, calls are refused at once, with no network traffic:');
for (let i = 4; i <= 5; i++) await attempt(`call ${i}`, 'gpt-4o-mini');

console.log('\n3) After the 1 s cool-down one probe call goes through; it succeeds, so the circuit closes:');
await new Promise((resolve) => setTimeout(resolve, 1_050));
await attempt('probe', 'gpt-4o-mini');
await attempt('call 7', 'gpt-4o-mini');

console.log('\n4) A buggy loop re-asks an expensive question; the spend-rate breaker stops it:');
mock.configure({ outputTokens: 900 });
let loopCalls = 0;
for (let i = 0; i < 20; i++) {
  try {
    await ask('gpt-4o', 1_000);
    loopCalls++;
  } catch (error) {
    if (!CircuitOpenError.isInstance(error)) throw error;
    console.log(
      `        stopped after ${loopCalls} answers (about $${(loopCalls * 0.009).toFixed(3)}, estimated): ${error.message}`,
    );
    break;
  }
}

console.log('\nCircuits now:');
for (const circuit of guard.circuits.states())
  console.log(`  ${circuit.circuitKey}: ${circuit.state}${circuit.reason ? ` (${circuit.reason})` : ''}`);
console.log(`The mock provider served ${mock.requests().length} requests in all.`);
await mock.close();
await guard.close();
