// The instrumentation: provider packages gated with no code change
export {
  AI_SDK_PROVIDER_PACKAGES,
  AiSdkInstrumentation,
  SUPPORTED_AI_SDK_PROVIDER_RANGE,
} from './instrumentation';
// The middleware: any other language model, through wrapLanguageModel()
export type { TollgateLanguageModelMiddleware } from './middleware';
export { tollgateMiddleware } from './middleware';
// Configuration
export type { AiSdkInstrumentationConfig, RoutableLanguageModel, TollgateMiddlewareOptions } from './types';
// The provider name a model's `provider` maps to
export { tollgateProviderName } from './utils';
