import { InvalidRequestError } from '../errors/invalid-request-error';
import { base64Payload, documentTokenBound } from '../tokens/attachment-token-bounds';
import type { RequestTally } from '../tokens/request-tally';
import { isRecord } from '../tokens/untrusted-json';
import type { RequestBody, RequestShape } from './request-shape';

// Gemini bills media by what it shows the model, not by bytes. Rates from Google's "Understand
// and count tokens" page (ai.google.dev/gemini-api/docs/tokens, read Dec 2026): an image up to
// 384 px a side is 258 tokens, a larger one is cut into 768 px tiles of 258 tokens each; video
// is 263 tokens per second, audio 32 per second. Gemini 3 `mediaResolution: HIGH` puts an
// image at 1,120 tokens. The gate does not decode media, so each bound below is the largest
// cost the part's size allows.

/** Gemini's framing is not published; 4 per content and 3 per request sit above what countTokens reports for empty turns. */
export const GEMINI_TOKENS_PER_CONTENT = 4;
export const GEMINI_TOKENS_PER_REQUEST = 3;

/** 16 tiles of 258 (an image up to 3072×3072 px): above Gemini 3's 1,120 for high resolution. */
export const GEMINI_IMAGE_TOKENS = 16 * 258;

/** 32 tokens per second; compressed audio carries at least 1,000 bytes a second (8 kbit/s), WAV/PCM 8,000. */
const AUDIO_TOKENS_PER_SECOND = 32;
const COMPRESSED_AUDIO_BYTES_PER_SECOND = 1000;
const RAW_AUDIO_BYTES_PER_SECOND = 8000;

/** 263 tokens per second; a video is assumed to carry at least 1,000 bytes a second. */
const VIDEO_TOKENS_PER_SECOND = 263;
const VIDEO_BYTES_PER_SECOND = 1000;

/** Decoded size of base64 text without decoding it. */
function decodedByteLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((base64.length * 3) / 4) - padding);
}

function mediaSeconds(bytes: number, bytesPerSecond: number): number {
  return Math.max(1, Math.ceil(bytes / bytesPerSecond));
}

/** Tokens one media part can cost: `inlineData` bounded from its size, `fileData` (unseen) at a fixed allowance. */
function mediaTokenBound(
  tally: RequestTally,
  media: Readonly<Record<string, unknown>>,
  inline: boolean,
): number {
  const mimeType = typeof media.mimeType === 'string' ? media.mimeType.toLowerCase() : '';
  const payload = inline ? base64Payload(media.data) : undefined;
  if (mimeType.startsWith('image/')) return GEMINI_IMAGE_TOKENS;
  if (payload === undefined) {
    // A file by URI (File API, Cloud Storage, YouTube): its length is not visible here, so it
    // gets the shared allowance for unseen documents (`UNSEEN_DOCUMENT_PAGES` pages).
    return documentTokenBound(tally.context, undefined);
  }
  const bytes = decodedByteLength(payload);
  if (mimeType.startsWith('audio/')) {
    const raw = /wav|pcm|l16|aiff/.test(mimeType);
    const perSecond = raw ? RAW_AUDIO_BYTES_PER_SECOND : COMPRESSED_AUDIO_BYTES_PER_SECOND;
    return mediaSeconds(bytes, perSecond) * AUDIO_TOKENS_PER_SECOND;
  }
  if (mimeType.startsWith('video/'))
    return mediaSeconds(bytes, VIDEO_BYTES_PER_SECOND) * VIDEO_TOKENS_PER_SECOND;
  // PDFs by page count, text and other files by their bytes (the shared document bound).
  return documentTokenBound(tally.context, payload);
}

function tallyPart(part: unknown, tally: RequestTally): void {
  if (typeof part === 'string') {
    tally.addText(part);
    return;
  }
  if (!isRecord(part)) {
    tally.addValue(part);
    return;
  }
  if (typeof part.text === 'string') tally.addText(part.text);
  if (isRecord(part.inlineData)) tally.addTokens(mediaTokenBound(tally, part.inlineData, true));
  if (isRecord(part.fileData)) tally.addTokens(mediaTokenBound(tally, part.fileData, false));
  // Calls, results and code travel as JSON the model reads.
  tally.addValue(part.functionCall);
  tally.addValue(part.functionResponse);
  tally.addValue(part.executableCode);
  tally.addValue(part.codeExecutionResult);
}

/** A `Content` (`{ role, parts }`) or anything the SDK turns into one: a string, a part, or a list of parts. */
function tallyContent(content: unknown, tally: RequestTally): void {
  tally.addTokens(GEMINI_TOKENS_PER_CONTENT);
  if (isRecord(content) && Array.isArray(content.parts)) {
    for (const part of content.parts) tallyPart(part, tally);
  } else if (Array.isArray(content)) {
    for (const part of content) tallyPart(part, tally);
  } else {
    tallyPart(content, tally);
  }
}

/** `contents` as the SDK takes it: one content, a list of contents, or a list of parts (one user turn). */
function tallyContents(contents: unknown, tally: RequestTally): void {
  if (contents === undefined || contents === null) return;
  if (!Array.isArray(contents)) {
    tallyContent(contents, tally);
    return;
  }
  const isContentList = contents.some((entry) => isRecord(entry) && Array.isArray(entry.parts));
  if (isContentList) for (const content of contents) tallyContent(content, tally);
  else tallyContent(contents, tally);
}

/** The request's generation settings: the SDK's `config`, or `generationConfig` in a REST body. */
function generationSettings(body: RequestBody): Readonly<Record<string, unknown>> {
  if (isRecord(body.config)) return body.config;
  return isRecord(body.generationConfig) ? body.generationConfig : {};
}

/** `systemInstruction`, `tools` and the like: on `config` in the SDK's parameters, top level on the wire. */
function setting(body: RequestBody, field: string): unknown {
  const config = isRecord(body.config) ? body.config : undefined;
  return config?.[field] ?? body[field];
}

/**
 * Adds everything a Gemini `generateContent` request is billed for as input: `contents`, the
 * system instruction, tool and function declarations, `toolConfig` and the response schema.
 * Context held by the provider (`cachedContent`) is not in the request and is not counted.
 *
 * @param body - The SDK's `generateContent` parameters (`{ model, contents, config }`) or a REST body.
 * @param tally - Where to add it.
 */
export function tallyGeminiGenerateContentRequest(body: RequestBody, tally: RequestTally): void {
  tally.addTokens(GEMINI_TOKENS_PER_REQUEST);
  tallyContents(body.contents, tally);
  const system = setting(body, 'systemInstruction');
  if (system !== undefined && system !== null) tallyContent(system, tally);
  const tools = setting(body, 'tools');
  if (Array.isArray(tools)) for (const tool of tools) tally.addValue(tool);
  else tally.addValue(tools);
  tally.addValue(setting(body, 'toolConfig'));
  const settings = generationSettings(body);
  tally.addValue(settings.responseSchema);
  tally.addValue(settings.responseJsonSchema);
}

/** An optional integer setting of the generation config, read and checked. */
function readSetting(body: RequestBody, field: string, minimum: number): number | undefined {
  const value = generationSettings(body)[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    const path = isRecord(body.config) ? `config.${field}` : `generationConfig.${field}`;
    throw new InvalidRequestError(
      path,
      minimum === 0 ? 'a non-negative integer' : `an integer >= ${minimum}`,
      value,
    );
  }
  return value;
}

/**
 * Gemini `generateContent` / `streamGenerateContent` (`@google/genai` `models.generateContent*`,
 * Gemini API and Vertex AI). Output cap: `config.maxOutputTokens` (`generationConfig` on the
 * wire), which includes thinking tokens, so a thinking budget never adds to it; `candidateCount`
 * candidates are billed.
 */
export const geminiGenerateContentShape: RequestShape = {
  genAiOperationName: 'generate_content',
  tallyInput: tallyGeminiGenerateContentRequest,
  checkBody(body) {
    const { contents } = body;
    if (
      contents !== undefined &&
      contents !== null &&
      typeof contents !== 'string' &&
      typeof contents !== 'object'
    )
      throw new InvalidRequestError(
        'contents',
        'content, a list of contents or parts, or a string',
        contents,
      );
    if (body.config !== undefined && body.config !== null && !isRecord(body.config))
      throw new InvalidRequestError('config', 'an object', body.config);
  },
  requestedOutputCap(body) {
    return readSetting(body, 'maxOutputTokens', 0);
  },
  defaultOutputCap: undefined,
  outputCapField() {
    return 'config.maxOutputTokens';
  },
  withOutputCap(body, cap) {
    if (readSetting(body, 'maxOutputTokens', 0) !== undefined) return body;
    if (!isRecord(body.config) && isRecord(body.generationConfig))
      return { ...body, generationConfig: { ...body.generationConfig, maxOutputTokens: cap } };
    const config = isRecord(body.config) ? body.config : {};
    return { ...body, config: { ...config, maxOutputTokens: cap } };
  },
  choiceCount(body) {
    return readSetting(body, 'candidateCount', 1) ?? 1;
  },
};
