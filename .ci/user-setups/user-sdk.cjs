// The user's own NodeSDK with getNodeAutoInstrumentations() (contrib openai instrumentation included) and
// tollgateInstrumentations(), in the order ORDER names (auto-first | tollgate-first).
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const { createGuard } = require('@tollgate/core');
const { tollgateInstrumentations } = require('@tollgate/node');
const verdict = require('./verdict.cjs');

const guard = createGuard(verdict.guardConfig);
const auto = getNodeAutoInstrumentations();
const tollgate = tollgateInstrumentations(guard);
const sdk = new NodeSDK({
  instrumentations: process.env.ORDER === 'tollgate-first' ? [...tollgate, ...auto] : [...auto, ...tollgate],
});
sdk.start();

const { OpenAI } = require('openai');
void verdict.exercise(OpenAI).finally(() => Promise.all([sdk.shutdown(), guard.close()]));
