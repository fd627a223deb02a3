import { describe, expect, it } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { loopFingerprint } from './loop-fingerprint';

const anthropic = (messages: unknown[], extra: Record<string, unknown> = {}): LlmCallDescriptor => ({
  provider: 'anthropic',
  operation: 'messages',
  model: 'claude-sonnet-4-5',
  body: { model: 'claude-sonnet-4-5', max_tokens: 100, system: 'Be brief.', messages, ...extra },
});

describe('loopFingerprint', () => {
  it('ignores key order at every depth and the delivery fields, and nothing else', () => {
    const a = anthropic([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
    const reordered: LlmCallDescriptor = {
      ...a,
      body: {
        messages: [{ content: [{ text: 'Hi', type: 'text' }], role: 'user' }],
        system: 'Be brief.',
        max_tokens: 100,
        model: 'claude-sonnet-4-5',
        stream: true,
        metadata: { user_id: 'u1' },
      },
    };
    expect(loopFingerprint(reordered, 'identical')).toBe(loopFingerprint(a, 'identical'));
    expect(loopFingerprint(anthropic(a.body.messages as unknown[], { top_k: 5 }), 'identical')).not.toBe(
      loopFingerprint(a, 'identical'),
    );
    expect(loopFingerprint({ ...a, provider: 'bedrock' }, 'identical')).not.toBe(
      loopFingerprint(a, 'identical'),
    );
  });

  it("leaves out google-genai's transport options and hashes bytes by content", () => {
    const gemini = (config: Record<string, unknown>, data: Uint8Array): LlmCallDescriptor => ({
      provider: 'gcp.gemini',
      operation: 'generate_content',
      model: 'gemini-2.5-flash',
      body: {
        model: 'gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data } }] }],
        config,
      },
    });
    const first = gemini(
      { maxOutputTokens: 10, abortSignal: new AbortController().signal },
      Uint8Array.of(1, 2),
    );
    const second = gemini({ maxOutputTokens: 10, httpOptions: { timeout: 5 } }, Uint8Array.of(1, 2));
    expect(loopFingerprint(first, 'identical')).toBe(loopFingerprint(second, 'identical'));
    expect(loopFingerprint(gemini({ maxOutputTokens: 10 }, Uint8Array.of(1, 3)), 'identical')).not.toBe(
      loopFingerprint(first, 'identical'),
    );
  });

  it("same-turn: an Anthropic tool result is not a person's message; a new question is a new turn", () => {
    const question = { role: 'user', content: 'Check the weather in Oslo' };
    const toolUse = {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 't1', name: 'weather', input: {} }],
    };
    const toolResult = {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 't1', content: 'rain' }],
    };
    const start = loopFingerprint(anthropic([question]), 'same-turn');
    expect(loopFingerprint(anthropic([question, toolUse, toolResult]), 'same-turn')).toBe(start);
    expect(loopFingerprint(anthropic([question, toolUse, toolResult]), 'identical')).not.toBe(
      loopFingerprint(anthropic([question]), 'identical'),
    );
    const followUp = { role: 'user', content: 'And tomorrow?' };
    expect(loopFingerprint(anthropic([question, toolUse, toolResult, followUp]), 'same-turn')).not.toBe(
      start,
    );
    // The tool set is part of the turn: another set is another request.
    expect(loopFingerprint(anthropic([question], { tools: [{ name: 'weather' }] }), 'same-turn')).not.toBe(
      start,
    );
  });
});
