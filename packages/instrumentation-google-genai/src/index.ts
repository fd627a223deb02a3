// The instrumentation
export { GoogleGenAIInstrumentation, SUPPORTED_GOOGLE_GENAI_RANGE } from './instrumentation';

// Configuration
export type { GoogleGenAIInstrumentationConfig } from './types';
