import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countPdfPages } from './pdf-page-count';

const twoPagePdf = readFileSync(new URL('./__fixtures__/two-page.pdf', import.meta.url));

describe('countPdfPages', () => {
  it('counts page objects, with or without a space after /Type', () => {
    expect(countPdfPages(twoPagePdf)).toBe(2);
  });

  it('takes the page tree /Count when page objects are hidden in compressed streams', () => {
    const compressed = Buffer.from('%PDF-1.7\n2 0 obj << /Type /Pages /Count 12 >> endobj\n%%EOF', 'latin1');
    expect(countPdfPages(compressed)).toBe(12);
  });

  it('does not count the /Pages node as a page', () => {
    const treeOnly = Buffer.from('%PDF-1.4\n<< /Type /Pages >>\n%%EOF', 'latin1');
    expect(countPdfPages(treeOnly)).toBeUndefined();
  });

  it('returns undefined for data that is not a PDF', () => {
    expect(countPdfPages(Buffer.from('/Type /Page /Count 3', 'latin1'))).toBeUndefined();
  });
});
