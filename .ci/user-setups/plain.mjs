// ESM app with no Tollgate code: the gate comes from --import.
import OpenAI from 'openai';
import verdict from './verdict.cjs';

await verdict.exercise(OpenAI);
