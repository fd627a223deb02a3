// register({ instrumentations: [getNodeAutoInstrumentations()] }), as the @tollgate/node README suggests.
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const { register } = require('@tollgate/node');
const verdict = require('./verdict.cjs');

register({ guard: verdict.guardConfig, instrumentations: [getNodeAutoInstrumentations()] });
if (require.main === module) {
  const { OpenAI } = require('openai');
  void verdict.exercise(OpenAI);
}
