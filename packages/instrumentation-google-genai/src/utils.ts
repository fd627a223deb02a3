import type { TokenUsage } from '@tollgate/core';
import { asRecord, tokenCount as count, stringOf } from '@tollgate/core/instrumentation';

export { asRecord, stringOf };

type Json = Record<string, unknown>;

/**
 * The bare model id of a `model` parameter in any form the SDK takes (`gemini-2.5-flash`,
 * `models/…`, `publishers/google/models/…`, `projects/…/models/…`, `google/…`): what prices,
 * budgets and spans name. Tuned-model resource names keep their last segment, an unpriced id.
 */
export function bareModelId(model: string): string {
  const slash = model.lastIndexOf('/');
  return slash >= 0 ? model.slice(slash + 1) : model;
}

/**
 * Normalises the `usageMetadata` of a finished response (a JSON reply, or a stream's last chunk).
 * `promptTokenCount` already includes cached tokens (`cachedContentTokenCount`); tool-use prompt
 * tokens (what built-in tools returned to the model) are billed as input on top of it; thoughts
 * are billed as output next to the candidates. The API leaves zero counts out, so a missing
 * `candidatesTokenCount` or `thoughtsTokenCount` is zero.
 *
 * @returns The usage, or undefined when the response reports none (no `promptTokenCount`).
 */
export function generateContentUsage(metadata: unknown): TokenUsage | undefined {
  const raw = asRecord(metadata);
  const prompt = count(raw?.promptTokenCount);
  if (!raw || prompt === undefined) return undefined;
  const thoughts = count(raw.thoughtsTokenCount);
  return {
    inputTokens: prompt + (count(raw.toolUsePromptTokenCount) ?? 0),
    outputTokens: (count(raw.candidatesTokenCount) ?? 0) + (thoughts ?? 0),
    cacheReadInputTokens: count(raw.cachedContentTokenCount),
    reasoningOutputTokens: thoughts,
  };
}

/** Finish reasons of a response's candidates, in candidate order. */
export function finishReasons(response: Json): string[] {
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    const reason = stringOf(asRecord(candidate)?.finishReason);
    if (reason) reasons.push(reason);
  }
  return reasons;
}

/**
 * The text of what an `embedContent` call embeds, one entry per input: strings as they are,
 * parts by their text (anything else as its JSON, which bounds it).
 */
export function embeddedTexts(params: Json): string[] {
  const contents = params.contents ?? params.content;
  const entries = Array.isArray(contents) ? contents : contents === undefined ? [] : [contents];
  return entries.map((entry) => {
    if (typeof entry === 'string') return entry;
    const record = asRecord(entry);
    if (typeof record?.text === 'string') return record.text;
    const parts = Array.isArray(record?.parts) ? record.parts : undefined;
    if (parts) {
      return parts
        .map((part) => {
          const text = asRecord(part)?.text;
          return typeof text === 'string' ? text : JSON.stringify(part ?? null);
        })
        .join('\n');
    }
    return JSON.stringify(entry ?? null);
  });
}

/** Input tokens a Vertex AI embedding response reports (`embeddings[].statistics.tokenCount`), if it does. */
export function embeddingTokenCount(response: Json): number | undefined {
  const embeddings = Array.isArray(response.embeddings) ? response.embeddings : [];
  let total = 0;
  let seen = false;
  for (const embedding of embeddings) {
    const tokens = count(asRecord(asRecord(embedding)?.statistics)?.tokenCount);
    if (tokens === undefined) continue;
    total += tokens;
    seen = true;
  }
  const metadata = count(asRecord(response.usageMetadata)?.promptTokenCount);
  return seen ? total : metadata;
}

/**
 * The wait a Gemini error asks for: `google.rpc.RetryInfo.retryDelay` (`"12s"`, `"0.5s"`) in the
 * JSON body the SDK's `ApiError` carries as its message. Gemini sends no `retry-after` header.
 *
 * @returns Milliseconds, or undefined when the error carries none.
 */
export function retryDelayMillis(error: unknown): number | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string' || !message.includes('retryDelay')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return undefined;
  }
  const details = asRecord(asRecord(body)?.error)?.details;
  for (const detail of Array.isArray(details) ? details : []) {
    const delay = asRecord(detail)?.retryDelay;
    const seconds = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay.trim())?.[1] : undefined;
    if (seconds !== undefined) return Math.ceil(Number(seconds) * 1000);
  }
  return undefined;
}
