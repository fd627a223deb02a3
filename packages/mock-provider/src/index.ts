// The server

// Faults
export type {
  DisconnectFault,
  Fault,
  FaultStatus,
  FaultTarget,
  MalformedUsageFault,
  StatusFault,
} from './faults';
// Behaviour
export type { MockBehaviour, MockProviderOptions, RateLimitKnobs } from './mock-options';
export type { MockProvider } from './mock-provider';
export { startMockProvider } from './mock-provider';

// What was served and billed
export type {
  BilledTotals,
  BilledUsage,
  MockEndpoint,
  MockProviderName,
  ServedRequest,
} from './served-request';

// Token scheme (to predict what the mock bills)
export {
  ATTACHMENT_TOKENS,
  countMockInputTokens,
  countWords,
  MESSAGE_OVERHEAD_TOKENS,
  mockOutputText,
  mockOutputWord,
  REPLY_PRIMING_TOKENS,
} from './token-scheme';
