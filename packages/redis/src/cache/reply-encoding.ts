import type { CachedReply } from '@tollgate/core';

/** Layout version, first byte of every value: an entry of another layout reads as a miss. */
const LAYOUT = 1;

/**
 * A reply as one Redis value: a layout byte, the length of a JSON head (status, headers, url,
 * time), the head, then the body bytes as they are — no base64, so an SSE stream costs its size.
 */
export function encodeReply(reply: CachedReply): Buffer {
  const head = Buffer.from(
    JSON.stringify({
      status: reply.status,
      statusText: reply.statusText,
      url: reply.url,
      headers: reply.headers,
      storedAtMs: reply.storedAtMs,
    }),
  );
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(LAYOUT, 0);
  prefix.writeUInt32BE(head.byteLength, 1);
  return Buffer.concat([prefix, head, reply.body]);
}

/** The reply a value holds; undefined for anything this layout cannot read. */
export function decodeReply(value: Buffer): CachedReply | undefined {
  if (value.byteLength < 5 || value.readUInt8(0) !== LAYOUT) return undefined;
  const headLength = value.readUInt32BE(1);
  if (5 + headLength > value.byteLength) return undefined;
  try {
    const head = JSON.parse(value.subarray(5, 5 + headLength).toString('utf8')) as Omit<CachedReply, 'body'>;
    if (typeof head.status !== 'number' || !Array.isArray(head.headers)) return undefined;
    return { ...head, body: new Uint8Array(value.subarray(5 + headLength)) };
  } catch {
    return undefined;
  }
}
