// CommonJS app run with `--import @tollgate/node/register`: withScope() comes from core's CommonJS build,
// the gate from its ESM build.
const { withScope } = require('@tollgate/core');
const { OpenAI } = require('openai');
const verdict = require('./verdict.cjs');

void verdict.exerciseTenants(OpenAI, withScope);
