// The instrumentation
export { BedrockInstrumentation, SUPPORTED_BEDROCK_RANGE } from './instrumentation';

// Configuration
export type { BedrockInstrumentationConfig } from './types';
