import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { RequestTally } from '../tokens/request-tally';
import {
  ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS,
  OPENAI_REPLY_PRIMING_TOKENS,
  OPENAI_TOKENS_PER_CONTENT_PART,
  OPENAI_TOKENS_PER_MESSAGE,
} from '../tokens/token-overheads';
import { aiSdkPromptShape as shape } from './ai-sdk-prompt-request';
import { GEMINI_IMAGE_TOKENS } from './gemini-generate-content-request';

function tally(body: Record<string, unknown>, model = 'gpt-4o-mini', claude = false): RequestTally {
  const result = new RequestTally({ model, claude });
  shape.tallyInput(body, result);
  return result;
}

const prompt = [
  { role: 'system', content: 'Be terse.' },
  { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
  {
    role: 'assistant',
    content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: 'Paris' } }],
  },
  {
    role: 'tool',
    content: [
      {
        type: 'tool-result',
        toolCallId: 'c1',
        toolName: 'weather',
        output: { type: 'json', value: { celsius: 21 } },
      },
    ],
  },
];

describe('the AI SDK prompt shape', () => {
  it('reads system text, text parts, tool calls and tool results, the tools and the response schema', () => {
    const tools = [{ type: 'function', name: 'weather', inputSchema: { type: 'object' } }];
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const counted = tally({ prompt, tools, responseFormat: { type: 'json', schema } });
    expect(counted.texts).toEqual([
      'Be terse.',
      'Weather in Paris?',
      'weather',
      '{"city":"Paris"}',
      'weather',
      '{"celsius":21}',
      JSON.stringify(tools[0]),
      JSON.stringify(schema),
    ]);
    expect(counted.knownTokens).toBeGreaterThan(OPENAI_REPLY_PRIMING_TOKENS + 4 * OPENAI_TOKENS_PER_MESSAGE);
  });

  it("gives Claude models Anthropic's tool-use system prompt when tools or a JSON schema are sent", () => {
    const plain = tally({ prompt }, 'claude-haiku-4-5', true).knownTokens;
    const withTools = tally(
      { prompt, tools: [{ type: 'function', name: 'weather' }] },
      'claude-haiku-4-5',
      true,
    );
    const withSchema = tally(
      { prompt, responseFormat: { type: 'json', schema: {} } },
      'claude-haiku-4-5',
      true,
    );
    expect(withTools.knownTokens - plain).toBeGreaterThanOrEqual(ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS);
    expect(withSchema.knownTokens - plain).toBeGreaterThanOrEqual(ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS);
  });

  it('bounds files by their kind, whatever form their data takes, never by the JSON of their bytes', () => {
    const image = new Uint8Array(2_000_000);
    const user = (part: Record<string, unknown>) => ({ prompt: [{ role: 'user', content: [part] }] });
    const openai = tally(user({ type: 'file', mediaType: 'image/png', data: image }));
    expect(openai.texts).toEqual([]);
    // gpt-4o-mini prices an image at up to ~48k tokens; its 2 MB of bytes would count far more.
    expect(openai.knownTokens).toBeLessThan(image.length / 20);
    const gemini = tally(user({ type: 'file', mediaType: 'image/png', data: image }), 'gemini-2.5-flash');
    expect(gemini.knownTokens).toBe(
      OPENAI_REPLY_PRIMING_TOKENS +
        OPENAI_TOKENS_PER_MESSAGE +
        OPENAI_TOKENS_PER_CONTENT_PART +
        GEMINI_IMAGE_TOKENS,
    );
    // AI SDK 7 wraps the data: `{ type: 'data', data }`, or `{ type: 'text', text }` for text files.
    const wrapped = tally(
      user({ type: 'file', mediaType: 'text/plain', data: { type: 'text', text: 'notes' } }),
    );
    expect(wrapped.texts).toEqual(['notes']);
    const bytes = tally(
      user({ type: 'file', mediaType: 'text/csv', data: { type: 'data', data: new Uint8Array(300) } }),
    );
    expect(bytes.knownTokens).toBeGreaterThanOrEqual(300);
  });

  it('reads maxOutputTokens as the cap, plus the thinking budget @ai-sdk/anthropic adds to it', () => {
    expect(shape.requestedOutputCap({ maxOutputTokens: 200 })).toBe(200);
    expect(shape.requestedOutputCap({})).toBeUndefined();
    const thinking = (budgetTokens?: number) => ({
      maxOutputTokens: 200,
      providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens } } },
    });
    expect(shape.requestedOutputCap(thinking(4000))).toBe(4200);
    expect(shape.requestedOutputCap(thinking())).toBe(1224);
    expect(() => shape.requestedOutputCap({ maxOutputTokens: 1.5 })).toThrow(InvalidRequestError);
  });

  it('writes a cap into maxOutputTokens only when the call sets none', () => {
    const body = { prompt: [] };
    expect(shape.withOutputCap(body, 300, 'openai')).toEqual({ prompt: [], maxOutputTokens: 300 });
    const own = { prompt: [], maxOutputTokens: 50 };
    expect(shape.withOutputCap(own, 300, 'openai')).toBe(own);
    expect(shape.outputCapField('anthropic')).toBe('maxOutputTokens');
  });

  it('refuses a prompt that is not a list of messages', () => {
    expect(() => shape.checkBody({ prompt: 'hi' })).toThrow(InvalidRequestError);
    expect(() => shape.checkBody({ prompt: [] })).not.toThrow();
  });
});
