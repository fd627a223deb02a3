import type { GuardedCall, StreamObserver } from '@tollgate/core/instrumentation';
import {
  observeEventStream,
  type StreamProgress,
  settleReply,
  settleUnreported,
} from './observed-event-stream';
import { asRecord, bedrockUsage, CONVERSE_USAGE_FIELDS, stringOf } from './utils';

type Json = Record<string, unknown>;

/** The text of Converse content blocks, for counting when usage is missing. */
function contentText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((entry) => {
      const block = asRecord(entry);
      if (!block) return '';
      if (typeof block.text === 'string') return block.text;
      const toolUse = asRecord(block.toolUse);
      if (toolUse) return `${stringOf(toolUse.name) ?? ''}${JSON.stringify(toolUse.input ?? '')}`;
      return stringOf(asRecord(asRecord(block.reasoningContent)?.reasoningText)?.text) ?? '';
    })
    .join('');
}

function requestIdOf(output: Json): string | undefined {
  return stringOf(asRecord(output.$metadata)?.requestId);
}

/** Settles a Converse call from its output's `usage`; counts the reply when usage is missing. */
export function observeConverse(result: unknown, call: GuardedCall): unknown {
  const output = asRecord(result) ?? {};
  const stopReason = stringOf(output.stopReason);
  call.recordResponse({ id: requestIdOf(output), finishReasons: stopReason ? [stopReason] : undefined });
  const usage = bedrockUsage(asRecord(output.usage), CONVERSE_USAGE_FIELDS);
  settleReply(
    call,
    usage,
    usage ? undefined : contentText(asRecord(asRecord(output.output)?.message)?.content),
  );
  return result;
}

/**
 * Follows a ConverseStream as the caller reads it and settles once when it ends: from the final
 * `metadata` event's usage (the only event with usage), else as a stream the provider did not
 * finish reporting.
 */
export function observeConverseStream(result: unknown, call: GuardedCall): unknown {
  const output = asRecord(result) ?? {};
  call.recordResponse({ id: requestIdOf(output) });
  if (!observeEventStream(output.stream, converseStreamObserver(call))) {
    call.complete(undefined, 'provider');
  }
  return result;
}

function converseStreamObserver(call: GuardedCall): StreamObserver<unknown> {
  const progress: StreamProgress = { pieces: [], sawOutput: false };
  let stopReason: string | undefined;
  let metadataUsage: Json | undefined;
  let sawMetadata = false;

  const onEvent = (event: Json): void => {
    const delta = asRecord(asRecord(event.contentBlockDelta)?.delta);
    if (delta) {
      call.recordFirstChunk();
      progress.sawOutput = true;
      const text =
        stringOf(delta.text) ??
        stringOf(asRecord(delta.toolUse)?.input) ??
        stringOf(asRecord(delta.reasoningContent)?.text);
      if (text) progress.pieces.push(text);
      return;
    }
    const start = asRecord(asRecord(asRecord(event.contentBlockStart)?.start)?.toolUse);
    if (start) {
      progress.sawOutput = true;
      const name = stringOf(start.name);
      if (name) progress.pieces.push(name);
      return;
    }
    const stop = asRecord(event.messageStop);
    if (stop) {
      stopReason = stringOf(stop.stopReason) ?? stopReason;
      return;
    }
    const metadata = asRecord(event.metadata);
    if (metadata) {
      sawMetadata = true;
      metadataUsage = asRecord(metadata.usage);
    }
  };

  return {
    onItem(item) {
      const event = asRecord(item);
      if (event) onEvent(event);
      return true;
    },
    onEnd(outcome, error) {
      if (stopReason) call.recordResponse({ finishReasons: [stopReason] });
      const usage = bedrockUsage(metadataUsage, CONVERSE_USAGE_FIELDS);
      if (usage && outcome !== 'error') {
        call.complete(usage, 'provider');
        return;
      }
      if (usage) {
        call.fail(error, usage);
        return;
      }
      settleUnreported(call, progress, outcome, error, { finished: sawMetadata || stopReason !== undefined });
    },
  };
}
