// One app process (started by main.mjs with `--import ./gate.mjs`). It makes gpt-4o calls on two
// concurrent lanes until the shared budget refuses one, then reports back to the parent.
import { once } from 'node:events';
import { BudgetExceededError } from '@tollgate/core';
import OpenAI from 'openai';
import { guard } from './gate.mjs';

const name = process.env.WORKER_NAME;
const openai = new OpenAI({ apiKey: 'not-needed', baseURL: process.env.MOCK_OPENAI_BASE_URL, maxRetries: 0 });

process.send({ type: 'ready' });
await once(process, 'message'); // "go": both processes start together

let sent = 0;
let refusal;
async function lane() {
  while (!refusal) {
    try {
      await openai.chat.completions.create({
        model: 'gpt-4o',
        max_tokens: 200,
        messages: [{ role: 'user', content: `Report ${sent + 1} from ${name}.` }],
      });
      sent++;
    } catch (error) {
      if (!BudgetExceededError.isInstance(error)) throw error;
      refusal ??= error;
    }
  }
}
await Promise.all([lane(), lane()]);
console.log(
  `  [${name}, pid ${process.pid}] ${sent} calls sent, then refused before sending: spent $${refusal.spent.toFixed(6)} ` +
    `+ reserved $${refusal.reserved.toFixed(6)} + requested $${refusal.requested.toFixed(6)} > $${refusal.limit}`,
);

process.send({ type: 'done', name, sent });
await guard.close();
process.disconnect();
