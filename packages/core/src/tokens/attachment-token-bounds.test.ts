import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  audioTokenBound,
  base64Payload,
  documentPageTokenBound,
  documentTokenBound,
  EARLY_CLAUDE_IMAGE_TOKENS,
  imageTokenBound,
  LATE_CLAUDE_IMAGE_TOKENS,
  OPENAI_ORIGINAL_DETAIL_IMAGE_TOKENS,
  OPENAI_UNKNOWN_MODEL_IMAGE_TOKENS,
  UNSEEN_DOCUMENT_PAGES,
} from './attachment-token-bounds';
import type { TallyContext } from './request-tally';

const openai = (model: string): TallyContext => ({ model, claude: false });
const claude = (model: string): TallyContext => ({ model, claude: true });
const twoPagePdfBase64 = readFileSync(new URL('./__fixtures__/two-page.pdf', import.meta.url)).toString(
  'base64',
);

describe('imageTokenBound', () => {
  it('bounds gpt-4o high detail by the 8-tile worst case and low detail by the base cost', () => {
    // 768×2048 after resizing: 2×4 tiles of 170 plus 85.
    expect(imageTokenBound(openai('gpt-4o-2024-08-06'), 'high')).toBe(85 + 8 * 170);
    expect(imageTokenBound(openai('gpt-4o'), 'auto')).toBe(1445);
    expect(imageTokenBound(openai('gpt-4o'), undefined)).toBe(1445);
    expect(imageTokenBound(openai('gpt-4o'), 'low')).toBe(85);
  });

  it('uses each family’s own pricing', () => {
    expect(imageTokenBound(openai('gpt-4o-mini'), 'high')).toBe(2833 + 8 * 5667);
    expect(imageTokenBound(openai('o3'), 'high')).toBe(75 + 8 * 150);
    expect(imageTokenBound(openai('gpt-5'), 'high')).toBe(70 + 8 * 140);
    // Patch-priced models ignore detail: 1,536 patches × multiplier.
    expect(imageTokenBound(openai('gpt-4.1-mini'), 'low')).toBe(Math.ceil(1536 * 1.62));
    expect(imageTokenBound(openai('gpt-4.1-nano'), 'high')).toBe(Math.ceil(1536 * 2.46));
    expect(imageTokenBound(openai('o4-mini'), 'high')).toBe(Math.ceil(1536 * 1.72));
  });

  it('falls back to a conservative bound for unknown models and original detail', () => {
    expect(imageTokenBound(openai('gpt-5.4'), 'low')).toBe(OPENAI_UNKNOWN_MODEL_IMAGE_TOKENS);
    expect(imageTokenBound(openai('llava-next'), 'high')).toBe(OPENAI_UNKNOWN_MODEL_IMAGE_TOKENS);
    expect(imageTokenBound(openai('gpt-4o'), 'original')).toBe(OPENAI_ORIGINAL_DETAIL_IMAGE_TOKENS);
  });

  it('bounds Claude images by the model’s resize limit', () => {
    expect(imageTokenBound(claude('claude-sonnet-4-5'))).toBe(EARLY_CLAUDE_IMAGE_TOKENS);
    expect(imageTokenBound(claude('claude-opus-4-7'))).toBe(LATE_CLAUDE_IMAGE_TOKENS);
    // 1092×1092 (1.19 MP) is Anthropic's largest square at ~1,590 tokens; 2576 px images reach ~4,784.
    expect(EARLY_CLAUDE_IMAGE_TOKENS).toBeGreaterThanOrEqual(Math.ceil((1092 * 1092) / 750));
    expect(LATE_CLAUDE_IMAGE_TOKENS).toBeGreaterThanOrEqual(4784);
  });
});

describe('base64Payload', () => {
  it('reads data URLs and bare base64, and ignores remote URLs', () => {
    expect(base64Payload('data:application/pdf;base64,JVBERi0=')).toBe('JVBERi0=');
    expect(base64Payload('JVBERi0=')).toBe('JVBERi0=');
    expect(base64Payload('https://example.com/a.pdf')).toBeUndefined();
    expect(base64Payload(42)).toBeUndefined();
  });
});

describe('audioTokenBound', () => {
  it('allows 20 tokens per second at the lowest bitrate of the format', () => {
    const oneSecondOfWav = Buffer.alloc(8000).toString('base64');
    expect(audioTokenBound(oneSecondOfWav, 'wav')).toBe(20);
    const oneSecondOfMp3 = Buffer.alloc(1000).toString('base64');
    expect(audioTokenBound(oneSecondOfMp3, 'mp3')).toBe(20);
    expect(audioTokenBound(undefined, 'mp3')).toBe(0);
  });
});

describe('documentTokenBound', () => {
  it('charges a PDF per page it can see', () => {
    const context = openai('gpt-4o');
    expect(documentTokenBound(context, twoPagePdfBase64)).toBe(2 * documentPageTokenBound(context));
    expect(documentTokenBound(context, `data:application/pdf;base64,${twoPagePdfBase64}`)).toBe(
      2 * documentPageTokenBound(context),
    );
    // Page text (3,000) plus the page image at high detail.
    expect(documentPageTokenBound(context)).toBe(3000 + 1445);
  });

  it('guesses pages from the size of a PDF whose pages are hidden', () => {
    const opaque = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3 * 4096)]).toString('base64');
    expect(documentTokenBound(openai('gpt-4o'), opaque)).toBe(4 * documentPageTokenBound(openai('gpt-4o')));
  });

  it('bounds other inline files by their byte length, and reserves unseen files as several pages', () => {
    const text = Buffer.from('plain text attachment').toString('base64');
    expect(documentTokenBound(openai('gpt-4o'), text)).toBeGreaterThanOrEqual('plain text attachment'.length);
    expect(documentTokenBound(claude('claude-opus-4-7'), undefined)).toBe(
      UNSEEN_DOCUMENT_PAGES * documentPageTokenBound(claude('claude-opus-4-7')),
    );
  });
});
