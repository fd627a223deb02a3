import { Buffer } from 'node:buffer';
import { normalizeModelName, usesLateClaudeTokenizer } from './encoding-for-model';
import { countPdfPages, MAX_SCANNED_PDF_BYTES } from './pdf-page-count';
import type { TallyContext } from './request-tally';

// Upper bounds for the non-text parts of a request (images, audio, files), whose token
// cost depends on content Tollgate does not decode. Figures were checked against provider
// documentation and public measurements in Nov 2026; docs/token-estimation.md lists them.

interface ImageCost {
  /** `detail: 'high'` or `'auto'` (auto may pick high). */
  readonly high: number;
  readonly low: number;
}

/**
 * Tile-priced models: the image is fit in 2048×2048, then its short side is cut to 768,
 * so the largest case is 768×2048 = 2×4 tiles of 512 px.
 */
function tileCost(baseTokens: number, tokensPerTile: number): ImageCost {
  return { high: baseTokens + 8 * tokensPerTile, low: baseTokens };
}

/** Patch-priced models: at most 1,536 patches of 32 px times a model multiplier; `detail` has no effect. */
function patchCost(multiplier: number): ImageCost {
  const tokens = Math.ceil(1536 * multiplier);
  return { high: tokens, low: tokens };
}

/** First match wins, so more specific names come first. Multipliers are the documented ones, which are at or above those measured. */
const OPENAI_IMAGE_COSTS: ReadonlyArray<readonly [RegExp, ImageCost]> = [
  // Priced so an image costs as much as on gpt-4o: 33× the tokens.
  [/^gpt-4o-mini/, tileCost(2833, 5667)],
  [/^gpt-(?:4\.1|5)-mini/, patchCost(1.62)],
  [/^gpt-(?:4\.1|5)-nano/, patchCost(2.46)],
  [/^(?:o4-mini|codex-mini)/, patchCost(1.72)],
  [/^o[13](?:$|-)/, tileCost(75, 150)],
  [/^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-4(?:$|-))/, tileCost(85, 170)],
  // gpt-5 itself; gpt-5.x releases fall through to the unknown-model bound.
  [/^gpt-5(?![.\d])/, tileCost(70, 140)],
];

/**
 * Any other model: the largest documented high-detail cost outside gpt-4o-mini
 * (gpt-4.1-nano's 1,536 × 2.46 = 3,779), which also covers the 2,500-patch × 1.2
 * high detail of gpt-5.x models. `detail: 'low'` is not trusted here, as patch-priced
 * models ignore it.
 */
export const OPENAI_UNKNOWN_MODEL_IMAGE_TOKENS = 3800;

/** `detail: 'original'`: a 10,000-patch budget; × 1.25 covers the multipliers measured on gpt-5.x. */
export const OPENAI_ORIGINAL_DETAIL_IMAGE_TOKENS = 12_500;

/**
 * Claude before 4.7: images are scaled to ≤ 1568 px and ~1.15 MP, ~width×height/750 tokens,
 * which Anthropic puts at "~1,600 tokens"; measured maxima are ~1,560. 1,700 adds margin.
 */
export const EARLY_CLAUDE_IMAGE_TOKENS = 1700;

/** Claude Opus 4.7 and later: up to 2576 px / ~3.75 MP, ⌈w/28⌉×⌈h/28⌉ ≤ ~4,784 visual tokens. */
export const LATE_CLAUDE_IMAGE_TOKENS = 5000;

/** Text extracted from one PDF page: Anthropic documents 1,500–3,000 tokens for dense pages. */
const PDF_PAGE_TEXT_TOKENS = 3000;

/** Files passed by id or URL cannot be inspected: they are reserved as this many pages. */
export const UNSEEN_DOCUMENT_PAGES = 10;

/** Providers cap PDFs at 100 pages (600 on Anthropic's 1M-context models); nothing larger is accepted. */
const MAX_DOCUMENT_PAGES = 600;

/** A PDF whose pages cannot be counted is assumed to hold a page per 4 KB: small text-only pages. */
const PDF_BYTES_PER_GUESSED_PAGE = 4096;

/**
 * Audio bound from the encoded size. Audio input is billed at roughly 10 tokens per second;
 * bounding at 20 per second, a WAV file carries at least 8 KB per second (8 kHz, 8-bit, mono)
 * and an MP3 at least 1 KB per second (8 kbit/s).
 */
const WAV_BYTES_PER_TOKEN = 400;
const COMPRESSED_AUDIO_BYTES_PER_TOKEN = 50;

/**
 * Upper bound for one image.
 *
 * @param context - The model the request goes to.
 * @param detail - The OpenAI `detail` field, if any (`low`, `high`, `auto`, `original`).
 * @returns The token bound.
 */
export function imageTokenBound(context: TallyContext, detail?: unknown): number {
  if (context.claude) {
    return usesLateClaudeTokenizer(context.model) ? LATE_CLAUDE_IMAGE_TOKENS : EARLY_CLAUDE_IMAGE_TOKENS;
  }
  if (detail === 'original') return OPENAI_ORIGINAL_DETAIL_IMAGE_TOKENS;
  const name = normalizeModelName(context.model);
  const cost = OPENAI_IMAGE_COSTS.find(([pattern]) => pattern.test(name))?.[1];
  if (cost === undefined) return OPENAI_UNKNOWN_MODEL_IMAGE_TOKENS;
  return detail === 'low' ? cost.low : cost.high;
}

/**
 * The base64 payload of a value that may be a data URL (`data:…;base64,XXXX`) or bare base64.
 *
 * @param value - A `data`/`file_data`/`url` field.
 * @returns The payload, or `undefined` when the value is not a string or is a non-data URL.
 */
export function base64Payload(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('data:')) {
    const comma = value.indexOf(',');
    return comma >= 0 ? value.slice(comma + 1) : undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  return value;
}

/** Decoded size of base64 text without decoding it (embedded whitespace can only make it larger). */
function decodedByteLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((base64.length * 3) / 4) - padding);
}

/**
 * Upper bound for one audio clip.
 *
 * @param data - Base64 audio (or a data URL).
 * @param format - The declared format (`wav`, `mp3`, …).
 * @returns The token bound (at least 1 when there is any data).
 */
export function audioTokenBound(data: unknown, format: unknown): number {
  const payload = base64Payload(data);
  if (payload === undefined) return 0;
  const bytesPerToken =
    format === 'wav' || format === 'pcm16' ? WAV_BYTES_PER_TOKEN : COMPRESSED_AUDIO_BYTES_PER_TOKEN;
  return Math.ceil(decodedByteLength(payload) / bytesPerToken);
}

/**
 * Tokens one PDF page can cost: its extracted text plus the image of the page that both
 * providers also send to the model.
 *
 * @param context - The model the request goes to.
 * @returns The per-page bound.
 */
export function documentPageTokenBound(context: TallyContext): number {
  const late = context.claude && usesLateClaudeTokenizer(context.model);
  // The late Claude tokenizer counts the same page text at up to ~1.35×.
  const textTokens = late ? Math.ceil(PDF_PAGE_TEXT_TOKENS * 1.35) : PDF_PAGE_TEXT_TOKENS;
  return textTokens + imageTokenBound(context, 'high');
}

/**
 * Upper bound for one attached file.
 *
 * A PDF costs pages × `documentPageTokenBound`, with pages read from the file (or guessed
 * from its size when they are not visible); other inline files cost their decoded byte
 * length (the text in them cannot have more tokens than bytes); files passed by id or URL
 * are reserved as `UNSEEN_DOCUMENT_PAGES` pages.
 *
 * @param context - The model the request goes to.
 * @param data - Inline base64 data or data URL, when the file is sent inline.
 * @returns The token bound.
 */
export function documentTokenBound(context: TallyContext, data: unknown): number {
  const perPage = documentPageTokenBound(context);
  const payload = base64Payload(data);
  if (payload === undefined || payload.length === 0) return UNSEEN_DOCUMENT_PAGES * perPage;
  const byteLength = decodedByteLength(payload);
  // Eight base64 characters decode to the first six bytes: enough for the PDF signature.
  if (Buffer.from(payload.slice(0, 8), 'base64').toString('latin1', 0, 5) !== '%PDF-') return byteLength;
  const pages =
    (byteLength <= MAX_SCANNED_PDF_BYTES ? countPdfPages(Buffer.from(payload, 'base64')) : undefined) ??
    Math.ceil(byteLength / PDF_BYTES_PER_GUESSED_PAGE);
  return Math.min(Math.max(pages, 1), MAX_DOCUMENT_PAGES) * perPage;
}
