import { messagesReply } from './anthropic-messages';
import { awsEventFrame, EVENT_STREAM_CONTENT_TYPE } from './aws-event-stream';
import { invokeMaxTokens, modelFamily } from './bedrock-model-family';
import type { Frame, InputUsage, Reply } from './exchange';
import { planOutput } from './output-plan';
import type { ReplyContext } from './reply-context';
import { splitInput } from './reply-context';

/** One streamed chunk of the model's own JSON, before it is wrapped for the wire. */
interface Chunk {
  payload: Record<string, unknown>;
  outputTokens: number;
  reasoningTokens: number;
}

/**
 * `/model/{id}/invoke` and `/invoke-with-response-stream`: the model's own body format. JSON
 * replies carry `x-amzn-bedrock-input-token-count` / `-output-token-count`; streams are AWS
 * event-stream `chunk` events whose `bytes` is the model's JSON (base64 on the wire), the last one
 * carrying `amazon-bedrock-invocationMetrics`. Anthropic bodies are answered by the Anthropic
 * Messages code (no `ping`); Nova like Converse; Llama and Mistral with their own fields.
 */
export function invokeReply(context: ReplyContext): Reply {
  const family = modelFamily(context.model, context.body);
  if (family === 'anthropic') return fromAnthropic(context);

  const plan = planOutput({
    behaviour: context.behaviour,
    maxTokens: invokeMaxTokens(family, context.body),
    reasons: false,
  });
  const input = splitInput('aws.bedrock', context);
  // Llama and Mistral have no prompt caching.
  if (family !== 'nova') Object.assign(input, { cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
  const output = plan.pieces.length;
  const text = plan.pieces.join('');
  const usage = !context.malformedUsage;
  let body: Record<string, unknown>;
  const chunks: Chunk[] = [];
  const push = (payload: Record<string, unknown>, outputTokens = 0) =>
    chunks.push({ payload, outputTokens, reasoningTokens: 0 });

  if (family === 'nova') {
    const stopReason = plan.truncated ? 'max_tokens' : 'end_turn';
    const novaUsage = {
      inputTokens: input.inputTokens - input.cacheReadInputTokens - input.cacheWriteInputTokens,
      outputTokens: output,
      totalTokens: input.inputTokens + output,
      cacheReadInputTokenCount: input.cacheReadInputTokens,
      cacheWriteInputTokenCount: input.cacheWriteInputTokens,
    };
    body = { output: { message: { role: 'assistant', content: [{ text }] } }, stopReason };
    if (usage) body.usage = novaUsage;
    push({ messageStart: { role: 'assistant' } });
    for (const piece of plan.pieces)
      push({ contentBlockDelta: { delta: { text: piece }, contentBlockIndex: 0 } }, 1);
    push({ contentBlockStop: { contentBlockIndex: 0 } });
    push({ messageStop: { stopReason } });
    if (usage) push({ metadata: { usage: novaUsage, metrics: {}, trace: {} } });
  } else if (family === 'llama') {
    const stopReason = plan.truncated ? 'length' : 'stop';
    body = { generation: text, stop_reason: stopReason };
    if (usage) Object.assign(body, { prompt_token_count: input.inputTokens, generation_token_count: output });
    plan.pieces.forEach((piece, index) => {
      const chunk: Record<string, unknown> = { generation: piece, stop_reason: null };
      if (usage) {
        chunk.prompt_token_count = index === 0 ? input.inputTokens : null;
        chunk.generation_token_count = index + 1;
      }
      push(chunk, 1);
    });
    push({
      generation: '',
      prompt_token_count: null,
      generation_token_count: output,
      stop_reason: stopReason,
    });
  } else {
    const stopReason = plan.truncated ? 'length' : 'stop';
    body = { outputs: [{ text, stop_reason: stopReason }] };
    for (const piece of plan.pieces) push({ outputs: [{ text: piece, stop_reason: null }] }, 1);
    push({ outputs: [{ text: '', stop_reason: stopReason }] });
  }
  return finish(context, input, output, body, chunks);
}

/** Anthropic's Messages body, JSON or events, re-wrapped as InvokeModel replies. */
function fromAnthropic(context: ReplyContext): Reply {
  const reply = messagesReply(context);
  if (reply.type === 'json') {
    const output = reply.usage.outputTokens;
    return withTokenHeaders(context, reply.usage, output, reply);
  }
  const chunks = reply.frames
    .filter((frame) => (frame.payload as { type?: unknown }).type !== 'ping')
    .map((frame) => ({
      payload: frame.payload as Record<string, unknown>,
      outputTokens: frame.outputTokens,
      reasoningTokens: frame.reasoningTokens,
    }));
  const output = chunks.reduce((sum, chunk) => sum + chunk.outputTokens, 0);
  return finish(context, reply.input, output, undefined, chunks);
}

function finish(
  context: ReplyContext,
  input: InputUsage,
  output: number,
  body: Record<string, unknown> | undefined,
  chunks: Chunk[],
): Reply {
  if (!context.stream) {
    const usage = { ...input, outputTokens: output, reasoningOutputTokens: 0 };
    return withTokenHeaders(context, usage, output, { type: 'json', status: 200, body, usage });
  }
  const last = chunks[chunks.length - 1];
  if (last && !context.malformedUsage) {
    const metrics: Record<string, number> = {
      inputTokenCount: uncached(input),
      outputTokenCount: output,
      invocationLatency: 1,
      firstByteLatency: 1,
    };
    if (input.cacheReadInputTokens > 0) metrics.cacheReadInputTokenCount = input.cacheReadInputTokens;
    if (input.cacheWriteInputTokens > 0) metrics.cacheWriteInputTokenCount = input.cacheWriteInputTokens;
    last.payload['amazon-bedrock-invocationMetrics'] = metrics;
  }
  const frames: Frame[] = chunks.map((chunk) =>
    awsEventFrame(
      'chunk',
      { bytes: Buffer.from(JSON.stringify(chunk.payload), 'utf8').toString('base64') },
      chunk.outputTokens,
      chunk.reasoningTokens,
    ),
  );
  return {
    type: 'events',
    input,
    frames,
    contentType: EVENT_STREAM_CONTENT_TYPE,
    headers: { 'x-amzn-bedrock-content-type': 'application/json' },
  };
}

function withTokenHeaders(
  context: ReplyContext,
  usage: InputUsage,
  output: number,
  reply: Reply & { type: 'json' },
): Reply {
  const headers: Record<string, string> = { 'x-amzn-bedrock-invocation-latency': '1' };
  if (!context.malformedUsage) {
    headers['x-amzn-bedrock-input-token-count'] = String(uncached(usage));
    headers['x-amzn-bedrock-output-token-count'] = String(output);
    if (usage.cacheReadInputTokens > 0) {
      headers['x-amzn-bedrock-cache-read-input-token-count'] = String(usage.cacheReadInputTokens);
    }
    if (usage.cacheWriteInputTokens > 0) {
      headers['x-amzn-bedrock-cache-write-input-token-count'] = String(usage.cacheWriteInputTokens);
    }
  }
  return { ...reply, headers };
}

/** Input tokens that were neither read from nor written to the prompt cache, as Bedrock counts them. */
function uncached(input: InputUsage): number {
  return input.inputTokens - input.cacheReadInputTokens - input.cacheWriteInputTokens;
}
