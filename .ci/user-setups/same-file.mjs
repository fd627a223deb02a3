// ESM app: register() above the import in the same file (imports are hoisted: openai is evaluated first).
import { register } from '@tollgate/node';
import verdict from './verdict.cjs';

register({ guard: verdict.guardConfig });

import OpenAI from 'openai';

await verdict.exercise(OpenAI);
