import type { RequestTally } from '../tokens/request-tally';

/** Output-cap fields Tollgate can write into a request. */
export type OutputCapField =
  | 'max_completion_tokens'
  | 'max_tokens'
  | 'max_output_tokens'
  // Gemini: the SDK's `config`, sent as `generationConfig.maxOutputTokens`.
  | 'config.maxOutputTokens'
  // Amazon Bedrock: Converse, and the Nova and Llama InvokeModel bodies
  | 'inferenceConfig.maxTokens'
  | 'inferenceConfig.max_new_tokens'
  | 'max_gen_len'
  // The Vercel AI SDK's call options, which each provider package sends as its own cap field.
  | 'maxOutputTokens';

/** A request body as the SDK will send it; read, never modified. */
export type RequestBody = Readonly<Record<string, unknown>>;

/**
 * One provider request format (OpenAI Chat Completions, Anthropic Messages, …): everything
 * the gate reads from or writes to a body of that format. One module per format implements
 * it, and `request-shape-registry.ts` maps each `LlmCallDescriptor.operation` to its shape.
 *
 * Methods take the body only (never a descriptor) and allocate nothing unless they say so:
 * they run on every gated call.
 */
export interface RequestShape {
  /** `gen_ai.operation.name` of calls of this format (`chat`, `embeddings`, `text_completion`). */
  readonly genAiOperationName: string;
  /**
   * Adds everything the request is billed for as input. Never throws: what it does not
   * recognise is counted by its JSON text.
   */
  tallyInput(body: RequestBody, tally: RequestTally): void;
  /**
   * Refuses a body whose structure the provider would refuse too (e.g. `messages` that is
   * not an array), before anything is reserved for it.
   *
   * @throws {InvalidRequestError} Naming the field.
   */
  checkBody(body: RequestBody): void;
  /**
   * The output cap per choice the body sets itself, read from the field(s) its API uses.
   *
   * @returns The cap, or `undefined` when the body sets none.
   * @throws {InvalidRequestError} Naming the field, when it is set to anything but a non-negative integer.
   */
  requestedOutputCap(body: RequestBody): number | undefined;
  /**
   * Output tokens per choice when the body sets no cap but the API's behaviour bounds them
   * (16 for legacy completions, 0 for embeddings); `undefined` when the model's maximum applies.
   */
  readonly defaultOutputCap: number | undefined;
  /**
   * The field a cap is written to for this provider, when Tollgate has to send one.
   *
   * @returns The field name, or `undefined` when the format has no output.
   */
  outputCapField(provider: string): OutputCapField | undefined;
  /**
   * The body with `cap` written into its output-cap field, unless it sets a cap of its own
   * or the format has no output; then `body` itself is returned.
   *
   * @returns `body`, or a shallow copy of it with the cap set (the only allocation here).
   */
  withOutputCap<T extends RequestBody>(body: T, cap: number, provider: string): T;
  /**
   * How many completions the provider generates (and bills output for) per request.
   *
   * @returns A positive integer.
   * @throws {InvalidRequestError} Naming the field, when a count is set to anything but a positive integer.
   */
  choiceCount(body: RequestBody): number;
}

/**
 * `withOutputCap` for formats that carry their cap in one top-level field.
 *
 * @param shape - The format; its `requestedOutputCap` tells whether the body sets a cap.
 * @param body - The body about to be sent; never modified.
 * @param cap - Output tokens per choice.
 * @param provider - Picks the field where the format's field depends on it.
 * @returns `body`, or a shallow copy of it with the cap set.
 */
export function withTopLevelOutputCap<T extends RequestBody>(
  shape: RequestShape,
  body: T,
  cap: number,
  provider: string,
): T {
  const field = shape.outputCapField(provider);
  if (field === undefined || shape.requestedOutputCap(body) !== undefined) return body;
  return { ...body, [field]: cap };
}
