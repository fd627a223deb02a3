import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { estimateCall } from '../estimate/call-estimate';
import { PriceTable } from '../pricing/price-table';
import { RequestTally } from '../tokens/request-tally';
import {
  GEMINI_IMAGE_TOKENS,
  GEMINI_TOKENS_PER_CONTENT,
  GEMINI_TOKENS_PER_REQUEST,
  geminiGenerateContentShape as shape,
} from './gemini-generate-content-request';

function tally(body: Record<string, unknown>): RequestTally {
  const result = new RequestTally({ model: 'gemini-2.5-flash', claude: false });
  shape.tallyInput(body, result);
  return result;
}

const settings = {
  prices: PriceTable.bundled(),
  defaultMaxOutputTokens: undefined,
  unknownModel: 'reject' as const,
  estimator: undefined,
};

describe('the Gemini generateContent shape', () => {
  it('reads contents in every form the SDK takes, the system instruction and the tools', () => {
    const tool = { functionDeclarations: [{ name: 'get_weather', description: 'Weather now' }] };
    const counted = tally({
      model: 'gemini-2.5-flash',
      contents: [
        { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      ],
      config: { systemInstruction: 'Be terse.', tools: [tool] },
    });
    expect(counted.texts).toEqual([
      'one',
      'two',
      '{"name":"get_weather","args":{"city":"Paris"}}',
      'Be terse.',
      JSON.stringify(tool),
    ]);
    expect(counted.knownTokens).toBe(GEMINI_TOKENS_PER_REQUEST + 3 * GEMINI_TOKENS_PER_CONTENT);
    expect(tally({ contents: 'Hello' }).texts).toEqual(['Hello']);
    expect(tally({ contents: ['a', { text: 'b' }] })).toMatchObject({
      texts: ['a', 'b'],
      knownTokens: GEMINI_TOKENS_PER_REQUEST + GEMINI_TOKENS_PER_CONTENT,
    });
    // A REST body: systemInstruction and tools at the top level.
    expect(tally({ contents: [], systemInstruction: { parts: [{ text: 'sys' }] } }).texts).toEqual(['sys']);
  });

  it('bounds inline media from their size at the documented per-second and per-tile rates', () => {
    const base = tally({}).knownTokens + GEMINI_TOKENS_PER_CONTENT;
    const part = (mimeType: string, bytes: number) => ({
      contents: [{ inlineData: { mimeType, data: Buffer.alloc(bytes).toString('base64') } }],
    });
    expect(tally(part('image/png', 10)).knownTokens - base).toBe(GEMINI_IMAGE_TOKENS);
    // 10 s of 8 kbit/s MP3 at 32 tokens a second; 10 s of 8 kHz 8-bit WAV likewise.
    expect(tally(part('audio/mp3', 10_000)).knownTokens - base).toBe(320);
    expect(tally(part('audio/wav', 80_000)).knownTokens - base).toBe(320);
    expect(tally(part('video/mp4', 5_000)).knownTokens - base).toBe(5 * 263);
    // Plain text files cost at most their bytes.
    expect(tally(part('text/plain', 700)).knownTokens - base).toBe(700);
  });

  it('reads the cap from config.maxOutputTokens (or generationConfig) and the candidate count', () => {
    expect(shape.requestedOutputCap({ config: { maxOutputTokens: 300 } })).toBe(300);
    expect(shape.requestedOutputCap({ generationConfig: { maxOutputTokens: 40 } })).toBe(40);
    expect(shape.requestedOutputCap({ maxOutputTokens: 40 })).toBeUndefined();
    expect(shape.choiceCount({ config: { candidateCount: 3 } })).toBe(3);
    expect(shape.choiceCount({})).toBe(1);
    expect(() => shape.requestedOutputCap({ config: { maxOutputTokens: '5' } })).toThrow(InvalidRequestError);
    expect(() => shape.choiceCount({ config: { candidateCount: 0 } })).toThrow(/config\.candidateCount/);
    expect(() => shape.checkBody({ contents: 5 })).toThrow(/contents/);
  });

  it('writes a cap into config, leaving a body with its own cap as it is', () => {
    const body = { model: 'm', contents: 'x', config: { temperature: 0 } };
    expect(shape.withOutputCap(body, 500, 'gcp.gemini')).toEqual({
      model: 'm',
      contents: 'x',
      config: { temperature: 0, maxOutputTokens: 500 },
    });
    expect(body.config).toEqual({ temperature: 0 });
    const own = { contents: 'x', config: { maxOutputTokens: 5 } };
    expect(shape.withOutputCap(own, 500, 'gcp.gemini')).toBe(own);
    expect(shape.withOutputCap({ contents: 'x' }, 9, 'gcp.gemini')).toEqual({
      contents: 'x',
      config: { maxOutputTokens: 9 },
    });
  });

  it('reserves the cap times candidateCount, or the model maximum (thinking included) when unset', () => {
    const call = (config: Record<string, unknown>) => ({
      provider: 'gcp.gemini',
      operation: 'generate_content' as const,
      model: 'gemini-2.5-flash',
      body: { model: 'gemini-2.5-flash', contents: 'Hi', config },
    });
    const capped = estimateCall(call({ maxOutputTokens: 100, candidateCount: 2 }), settings);
    expect(capped).toMatchObject({ maxOutputTokens: 100, choices: 2, outputBound: 'request' });
    expect(capped.worstCaseTokens).toBe(capped.estimatedInputTokens + 200);
    const open = estimateCall(call({ thinkingConfig: { thinkingBudget: 1024 } }), settings);
    expect(open).toMatchObject({
      maxOutputTokens: 65_536,
      outputBound: 'model-max',
      pricedModel: 'gemini-2.5-flash',
    });
    const sent = estimateCall(call({}), { ...settings, defaultMaxOutputTokens: 700 });
    expect(sent).toMatchObject({ outputBound: 'sent', outputCapToSend: 700 });
  });
});

describe('Gemini prices', () => {
  it('bill 2.5 Pro at the long-context tier above 200k prompt tokens', () => {
    const table = PriceTable.bundled();
    const pro = table.resolve('gemini-2.5-pro')?.price;
    expect(pro).toMatchObject({ provider: 'gcp.gemini', input: 1.25, output: 10, cachedInput: 0.125 });
    expect(pro?.longContext?.[0]).toMatchObject({ aboveInputTokens: 200_000, input: 2.5, output: 15 });
    expect(table.resolve('google/gemini-2.5-flash')?.model).toBe('gemini-2.5-flash');
    expect(table.resolve('gemini-2.0-flash-001')?.model).toBe('gemini-2.0-flash');
  });
});
