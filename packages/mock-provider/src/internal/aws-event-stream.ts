import { EventStreamCodec } from '@smithy/core/event-streams';
import type { Frame } from './exchange';

// The AWS SDK's own codec (prelude and message CRC32s, typed headers), so the framing is
// byte-for-byte what the SDK's decoder expects rather than a second implementation of it.
const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

/** The media type of an AWS event-stream response body. */
export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/**
 * One `:message-type: event` message of type `eventType` whose payload is `payload` as JSON,
 * billed with `outputTokens` once written.
 */
export function awsEventFrame(
  eventType: string,
  payload: Record<string, unknown>,
  outputTokens = 0,
  reasoningTokens = 0,
): Frame {
  const data = codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: new Uint8Array(Buffer.from(JSON.stringify(payload), 'utf8')),
  });
  return { data, outputTokens, reasoningTokens, payload };
}
