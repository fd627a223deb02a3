// Imported by imported-first.mjs before it imports openai.
import { register } from '@tollgate/node';
import verdict from './verdict.cjs';

register({ guard: verdict.guardConfig });
