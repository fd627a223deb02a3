// Vercel AI SDK app with no Tollgate code: the gate comes from --import. One call that fits the
// budget and one without a cap (the model's maximum output reserved) that does not.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';

const openai = createOpenAI({ apiKey: 'test', baseURL: process.env.MOCK_OPENAI_URL });
const outcome = (promise) =>
  promise.then(
    () => 'allowed',
    (error) => error.name,
  );
const model = openai.chat('gpt-4o-mini');
const calls = [await outcome(generateText({ model, prompt: 'hi', maxOutputTokens: 20, maxRetries: 0 }))];
calls.push(await outcome(generateText({ model: openai.chat('gpt-4o'), prompt: 'hi', maxRetries: 0 })));
const gated = calls[0] === 'allowed' && calls[1] === 'BudgetExceededError';
console.log(JSON.stringify({ scenario: process.env.SCENARIO, verdict: gated ? 'gated' : 'ungated', calls }));
