import type { Buffer } from 'node:buffer';

/** PDFs larger than this are not decoded and scanned; their page count is guessed from their size. */
export const MAX_SCANNED_PDF_BYTES = 8 * 1024 * 1024;

/**
 * Reads a page count out of PDF bytes without a PDF parser: the larger of the number of
 * `/Type /Page` objects and the largest `/Count` in a page tree (outline counts can only
 * raise it, which keeps the guess conservative).
 *
 * PDFs that keep their page objects in compressed object streams show neither; for those,
 * and for data that is not a PDF, the result is `undefined`.
 *
 * @param bytes - The decoded file.
 * @returns The page count, or `undefined` when none is visible.
 */
export function countPdfPages(bytes: Buffer): number | undefined {
  if (bytes.length > MAX_SCANNED_PDF_BYTES) return undefined;
  // latin1 maps each byte to one char, so binary streams cannot break the scan.
  const text = bytes.toString('latin1');
  if (!text.startsWith('%PDF-')) return undefined;
  let pageObjects = 0;
  for (const _ of text.matchAll(/\/Type\s*\/Page(?![A-Za-z])/g)) pageObjects += 1;
  let largestCount = 0;
  for (const match of text.matchAll(/\/Count\s+(\d{1,6})/g)) {
    largestCount = Math.max(largestCount, Number(match[1]));
  }
  const pages = Math.max(pageObjects, largestCount);
  return pages > 0 ? pages : undefined;
}
