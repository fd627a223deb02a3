// openai 4 (outside the supported range) under `--import @tollgate/node/register`: must start, run and warn.
import OpenAI from 'openai';
import verdict from '../verdict.cjs';

await verdict.exercise(OpenAI);
