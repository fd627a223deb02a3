import type { TokenUsage } from '@tollgate/core';
import { withOutputCap } from '@tollgate/core';
import type { GatedRequest, GuardedCall } from '@tollgate/core/instrumentation';
import type { CommandLike } from './internal-types';
import { GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK } from './semconv';
import type { BedrockInstrumentationConfig } from './types';
import { asRecord, bedrockModelName, invokeOperation, parseJsonObject } from './utils';

/** The operations this package gates, by the name their operation schema gives them. */
export type GatedOperation = 'Converse' | 'ConverseStream' | 'InvokeModel' | 'InvokeModelWithResponseStream';

const GATED_OPERATIONS: ReadonlySet<string> = new Set<GatedOperation>([
  'Converse',
  'ConverseStream',
  'InvokeModel',
  'InvokeModelWithResponseStream',
]);

/** The namespace of Bedrock Runtime's operation schemas; other AWS clients share `send()` and are never read. */
const BEDROCK_RUNTIME_NAMESPACE = 'com.amazonaws.bedrockruntime';

/**
 * The Bedrock Runtime operation a command performs, from its operation schema
 * (`[9, namespace, name, …]`), or undefined for any other command (of any AWS client).
 */
export function gatedOperationOf(command: unknown): GatedOperation | undefined {
  const schema = (command as { schema?: unknown } | null | undefined)?.schema;
  if (!Array.isArray(schema) || schema[0] !== 9 || schema[1] !== BEDROCK_RUNTIME_NAMESPACE) return undefined;
  return GATED_OPERATIONS.has(schema[2]) ? (schema[2] as GatedOperation) : undefined;
}

/**
 * One Bedrock request as the gate sees it, and how to send it once admitted. Built before the
 * gate runs; `sentInput()` is the input the admitted request goes out with.
 */
export interface BedrockCall {
  operation: GatedOperation;
  request: GatedRequest;
  /** The input to send: the admitted model and, when the reservation assumed one, the output cap written in. */
  sentInput(call: GuardedCall): Record<string, unknown>;
  /** Usage read from the `x-amzn-bedrock-*-token-count` headers of the last attempt (InvokeModel). */
  headerUsage?: TokenUsage;
}

/**
 * Describes a Converse / InvokeModel command for the gate, or returns undefined when the
 * command is one the gate cannot describe (no model id, an InvokeModel body that is a stream or
 * not JSON, a model family whose body format is not known): the SDK then sends it untouched.
 */
export function describeCommand(
  command: CommandLike,
  operation: GatedOperation,
  settings: BedrockInstrumentationConfig,
): BedrockCall | undefined {
  const input = asRecord(command.input);
  const modelId = input?.modelId;
  if (!input || typeof modelId !== 'string' || modelId.length === 0) return undefined;
  const provider = settings.providerName ?? GEN_AI_PROVIDER_NAME_VALUE_AWS_BEDROCK;
  const model = bedrockModelName(modelId);
  const streaming = operation === 'ConverseStream' || operation === 'InvokeModelWithResponseStream';
  // server.address / server.port are filled in once the client's endpoint is resolved.
  // Streams are not cached: their event-stream bytes are read by the caller, past the attempt middleware.
  const request = (descriptor: GatedRequest['descriptor']): GatedRequest => ({
    descriptor,
    streaming,
    cacheable: !streaming,
  });
  /** The admitted model goes out in `modelId` only when a fallback rule chose another one. */
  const modelIdFor = (call: GuardedCall) => (call.admission.model === model ? modelId : call.admission.model);

  if (operation === 'Converse' || operation === 'ConverseStream') {
    const descriptor = { provider, operation: 'converse' as const, model, body: input };
    return {
      operation,
      request: request(descriptor),
      sentInput(call) {
        const capped = withOutputCap(descriptor, input, call.admission.outputCapToSend);
        // Always a fresh object: it is this call's key for its attempts.
        return { ...capped, modelId: modelIdFor(call) };
      },
    };
  }

  // InvokeModel: the model's own JSON, as bytes or text. Parsed once; rewritten only to add a cap.
  const body = parseJsonObject(input.body);
  const bodyOperation = body ? invokeOperation(model, body) : undefined;
  if (!body || !bodyOperation) return undefined;
  const descriptor = { provider, operation: bodyOperation, model, body };
  return {
    operation,
    // The command's other fields (accept, guardrails, trace, …) change the reply too.
    request: { ...request(descriptor), cacheKeyBody: { ...input, body } },
    sentInput(call) {
      const capped = withOutputCap(descriptor, body, call.admission.outputCapToSend);
      const sent: Record<string, unknown> = { ...input, modelId: modelIdFor(call) };
      if (capped !== body) {
        const json = JSON.stringify(capped);
        sent.body = typeof input.body === 'string' ? json : new TextEncoder().encode(json);
      }
      return sent;
    },
  };
}
