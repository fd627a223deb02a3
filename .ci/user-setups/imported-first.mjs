// ESM app: register() runs in a module imported before `import OpenAI from 'openai'`.
import './register-first.mjs';
import OpenAI from 'openai';
import verdict from './verdict.cjs';

await verdict.exercise(OpenAI);
