// The instrumentation
export { AnthropicInstrumentation, SUPPORTED_ANTHROPIC_RANGE } from './instrumentation';

// Configuration
export type { AnthropicInstrumentationConfig, SdkSpanMode } from './types';
