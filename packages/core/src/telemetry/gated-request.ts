import type { LlmCallDescriptor } from '../call/llm-call';

/** A provider call as an instrumentation sees it, before it is sent. */
export interface GatedRequest {
  descriptor: LlmCallDescriptor;
  /** Host of the endpoint, for `server.address`. */
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  streaming: boolean;
  /**
   * False when the request cannot key the response cache (e.g. a stream the SDK's hook cannot
   * record). @default true
   */
  cacheable?: boolean;
  /**
   * Everything the request sends, to key the response cache, when the descriptor's body is only
   * part of it (a summary for estimation, or the model's body without the command's other
   * fields). @default the descriptor's body
   */
  cacheKeyBody?: Readonly<Record<string, unknown>>;
}

/** What the response said about itself. */
export interface ResponseDetails {
  id?: string | undefined;
  model?: string | undefined;
  finishReasons?: readonly string[] | undefined;
}
