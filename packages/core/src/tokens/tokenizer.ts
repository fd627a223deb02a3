import { Buffer } from 'node:buffer';
import { loadEncoder } from './encoder-loading';
import { encodingForModel, type TiktokenEncodingName } from './encoding-for-model';
import type { LoadedEncoder } from './loaded-encoder';

/**
 * Pre-token pieces longer than this many UTF-8 bytes are counted as their byte length
 * instead of being merged. Merging is quadratic in the piece length (a 9 KB run of
 * unpunctuated CJK took ~40 ms), so one long run of letters could otherwise stall the
 * gate. The byte length still bounds the true count from above. Every piece in the
 * Japanese and Chinese samples measured was shorter (cutting at 96 bytes over-counted
 * Japanese by 11%, at 64 by 60%), and words, numbers and punctuation runs are far shorter.
 */
export const MAX_EXACT_PIECE_BYTES = 128;

/**
 * Distinct pieces remembered per encoding. Natural text reuses a few thousand pieces
 * (a 330 KB mixed corpus had ~8,500), so repeated prompts skip merging at a few MB.
 */
const PIECE_MEMO_LIMIT = 50_000;

/**
 * Whole texts remembered per encoding, at most this many characters in all (~2 MB): a
 * service sends the same system prompt with every call, and looking a text up costs far
 * less than splitting it with the pre-tokenizer pattern again.
 */
const TEXT_MEMO_CHARS = 1_000_000;

/** Texts longer than this are counted every time: rarely repeated verbatim, they would crowd the memo. */
const TEXT_MEMO_MAX_TEXT_CHARS = 16_384;

/**
 * Number of tokens BPE merging leaves for one piece.
 *
 * @param ranks - The encoding's ranks.
 * @param bytes - The piece as a binary string (one char per UTF-8 byte), at least 2 long.
 */
function mergedTokenCount(ranks: ReadonlyMap<string, number>, bytes: string): number {
  const unranked = Number.POSITIVE_INFINITY;
  // starts[i] is where part i begins; pairRanks[i] ranks the join of part i and part i + 1.
  const starts: number[] = [];
  const pairRanks: number[] = [];
  for (let index = 0; index < bytes.length; index += 1) {
    starts.push(index);
    pairRanks.push(ranks.get(bytes.slice(index, index + 2)) ?? unranked);
  }
  starts.push(bytes.length);
  pairRanks[bytes.length - 1] = unranked;

  const rankOfJoin = (part: number): number =>
    part + 2 < starts.length
      ? (ranks.get(bytes.slice(starts[part], starts[part + 2])) ?? unranked)
      : unranked;

  let parts = bytes.length;
  while (parts > 1) {
    let lowest = unranked;
    let at = -1;
    for (let part = 0; part < parts - 1; part += 1) {
      const rank = pairRanks[part] ?? unranked;
      // Strictly lower keeps the leftmost pair on ties, as tiktoken does.
      if (rank < lowest) {
        lowest = rank;
        at = part;
      }
    }
    if (at < 0) break;
    starts.splice(at + 1, 1);
    pairRanks.splice(at + 1, 1);
    parts -= 1;
    pairRanks[at] = rankOfJoin(at);
    if (at > 0) pairRanks[at - 1] = rankOfJoin(at - 1);
  }
  return parts;
}

function countPiece(encoder: LoadedEncoder, piece: string): number {
  const known = encoder.pieceCounts.get(piece);
  if (known !== undefined) return known;
  const encoded = Buffer.from(piece, 'utf8');
  if (encoded.length > MAX_EXACT_PIECE_BYTES) return encoded.length;
  const bytes = encoded.toString('latin1');
  const count = encoder.ranks.has(bytes) ? 1 : mergedTokenCount(encoder.ranks, bytes);
  if (encoder.pieceCounts.size >= PIECE_MEMO_LIMIT) encoder.pieceCounts.clear();
  encoder.pieceCounts.set(piece, count);
  return count;
}

/**
 * Counts the tokens of a text with a loaded encoder.
 *
 * Equal to tiktoken's count whenever no pre-token piece exceeds `MAX_EXACT_PIECE_BYTES`;
 * otherwise at or above it (such pieces count as their bytes). Special-token text such
 * as `<|endoftext|>` is counted as ordinary text, which is how the APIs bill user text.
 *
 * @param encoder - From `loadEncoder`.
 * @param text - The text to count.
 * @returns The token count.
 */
export function countWithEncoder(encoder: LoadedEncoder, text: string): number {
  const memo = text.length <= TEXT_MEMO_MAX_TEXT_CHARS;
  if (memo) {
    const known = encoder.textCounts.get(text);
    if (known !== undefined) return known;
  }
  const total = countPieces(encoder, text);
  if (memo) {
    if (encoder.textCountChars + text.length > TEXT_MEMO_CHARS) {
      encoder.textCounts.clear();
      encoder.textCountChars = 0;
    }
    encoder.textCounts.set(text, total);
    encoder.textCountChars += text.length;
  }
  return total;
}

function countPieces(encoder: LoadedEncoder, text: string): number {
  const splitter = encoder.pieceSplitter;
  let total = 0;
  // exec() on the shared pattern instead of matchAll(), which clones the regex per call;
  // counting is synchronous, so nothing else can move lastIndex in between.
  splitter.lastIndex = 0;
  for (let match = splitter.exec(text); match !== null; match = splitter.exec(text)) {
    total += countPiece(encoder, match[0]);
  }
  return total;
}

/**
 * Builds the tokenizer a model needs so the first gated call does not pay for it.
 *
 * The first build blocks the event loop for ~0.12 s (cl100k_base) to ~0.25 s (o200k_base)
 * and keeps ~13–21 MB; call this at startup for the models you gate. Each encoding is
 * built once per process.
 *
 * @param model - A model name; its encoding is chosen as for estimation (Claude models load cl100k_base).
 * @returns The encoding that is now loaded.
 * @throws When js-tiktoken or its rank file cannot be loaded, so a broken install shows at startup.
 * @example
 * preloadTokenizer('gpt-4o'); // 'o200k_base'
 */
export function preloadTokenizer(model: string): TiktokenEncodingName {
  const encoding = encodingForModel(model);
  loadEncoder(encoding);
  return encoding;
}
