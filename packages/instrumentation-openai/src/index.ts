export { OpenAIInstrumentation, SUPPORTED_OPENAI_RANGE } from './instrumentation';
export type { OpenAIInstrumentationConfig } from './types';
