import type { LlmCallDescriptor } from '../call/llm-call';

/** A provider call as an instrumentation sees it, before it is sent. */
export interface GatedRequest {
  descriptor: LlmCallDescriptor;
  /** Host of the endpoint, for `server.address`. */
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  streaming: boolean;
  /**
   * False when the descriptor's body does not state the whole request (e.g. a summary of it for
   * estimation), so it cannot key the response cache. @default true
   */
  cacheable?: boolean;
}

/** What the response said about itself. */
export interface ResponseDetails {
  id?: string | undefined;
  model?: string | undefined;
  finishReasons?: readonly string[] | undefined;
}
