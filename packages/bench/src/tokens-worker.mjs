// Token counting for one tokenizer, in a fresh process so "load" is a real cold start.
// argv: <tokenizer> <sizes, comma-separated>. Prints one JSON line.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { countTextTokens, estimateInputTokens } from '@tollgate/core';
import { promptText } from './workloads.mjs';

const require = createRequire(import.meta.url);
const [tokenizer, sizeList] = process.argv.slice(2);
const sizes = sizeList.split(',').map(Number);

function counterFor(name) {
  switch (name) {
    case 'js-tiktoken': {
      const { getEncoding } = require('js-tiktoken');
      let encoder;
      return (text) => {
        encoder ??= getEncoding('o200k_base');
        return encoder.encode(text).length;
      };
    }
    case 'gpt-tokenizer': {
      const { countTokens } = require('gpt-tokenizer/encoding/o200k_base');
      return (text) => countTokens(text);
    }
    case 'tollgate':
      // The project's counter, forced to count exactly at any size.
      return (text) => countTextTokens('gpt-4o-mini', text, { exactCountMaxBytes: Number.POSITIVE_INFINITY });
    case 'gate':
      // What the gate runs: estimateInputTokens with default options (byte bound above 8 KB of text).
      return (text) =>
        estimateInputTokens({
          provider: 'openai',
          operation: 'chat',
          model: 'gpt-4o-mini',
          body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] },
        }).estimatedInputTokens;
    default:
      throw new Error(`unknown tokenizer ${name}`);
  }
}

function timed(fn) {
  const started = performance.now();
  const value = fn();
  return { ms: performance.now() - started, value };
}

const count = counterFor(tokenizer);
const load = timed(() => count('Hello, world'));
const results = [];
for (const size of sizes) {
  const text = promptText(size, size);
  const cold = timed(() => count(text));
  const warm = timed(() => count(text));
  results.push({
    size,
    bytes: Buffer.byteLength(text),
    tokens: cold.value,
    coldMs: cold.ms,
    warmMs: warm.ms,
  });
}
const heapMb = process.memoryUsage().heapUsed / 1e6;
process.stdout.write(`${JSON.stringify({ tokenizer, loadMs: load.ms, results, heapMb })}\n`);
