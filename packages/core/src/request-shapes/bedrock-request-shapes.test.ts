import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { withOutputCap } from '../estimate/request-output-limits';
import { RequestTally } from '../tokens/request-tally';
import { genAiOperationName, requestShapeOf } from './request-shape-registry';

const converse = requestShapeOf('converse')!;
const nova = requestShapeOf('invoke_nova')!;
const llama = requestShapeOf('invoke_llama')!;
const mistral = requestShapeOf('invoke_mistral')!;

function tally(
  operation: string,
  body: Record<string, unknown>,
  model = 'amazon.nova-lite-v1:0',
  claude = false,
) {
  const collected = new RequestTally({ model, claude });
  requestShapeOf(operation)!.tallyInput(body, collected);
  return collected;
}

describe('Bedrock request shapes', () => {
  it('are registered under their operations, Converse and Nova as chat, prompt bodies as text completion', () => {
    expect(
      ['converse', 'invoke_nova', 'invoke_llama', 'invoke_mistral'].map((operation) =>
        genAiOperationName({ operation }),
      ),
    ).toEqual(['chat', 'chat', 'text_completion', 'text_completion']);
  });

  it('tally Converse system blocks, message blocks, tool use and tool definitions, and bound images by size class', () => {
    const body = {
      modelId: 'amazon.nova-lite-v1:0',
      system: [{ text: 'Be terse.' }, { cachePoint: { type: 'default' } }],
      messages: [
        {
          role: 'user',
          content: [{ text: 'Describe' }, { image: { format: 'png', source: { bytes: new Uint8Array(4) } } }],
        },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'lookup', input: { q: 'x' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'found' }] } }] },
      ],
      toolConfig: { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object' } } } }] },
      inferenceConfig: { maxTokens: 10 },
    };
    const counted = tally('converse', body);
    expect(counted.texts).toEqual([
      'Be terse.',
      'Describe',
      'lookup',
      '{"q":"x"}',
      'found',
      '{"toolSpec":{"name":"lookup","inputSchema":{"json":{"type":"object"}}}}',
    ]);
    // Overheads and one image bound; the image bytes are never counted as text.
    expect(counted.knownTokens).toBeGreaterThan(3 + 4 * 4 + 10);
    // The model id, inference settings and cache points are not input.
    expect(counted.texts.join('')).not.toContain('nova');
  });

  it('add the hidden tool-use system prompt for Claude on Bedrock only', () => {
    const body = { messages: [], toolConfig: { tools: [{ toolSpec: { name: 'a' } }] } };
    const claude = tally('converse', body, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', true);
    const other = tally('converse', body);
    expect(claude.knownTokens - other.knownTokens).toBe(530);
  });

  it('read the Converse cap from inferenceConfig.maxTokens and inject it there, keeping the other settings', () => {
    expect(converse.requestedOutputCap({ inferenceConfig: { maxTokens: 64 } })).toBe(64);
    expect(converse.requestedOutputCap({ inferenceConfig: { temperature: 0 } })).toBeUndefined();
    expect(converse.outputCapField('aws.bedrock')).toBe('inferenceConfig.maxTokens');
    const body = { modelId: 'm', messages: [], inferenceConfig: { temperature: 0.2 } };
    const capped = withOutputCap({ provider: 'aws.bedrock', operation: 'converse' }, body, 300);
    expect(capped).toEqual({
      modelId: 'm',
      messages: [],
      inferenceConfig: { temperature: 0.2, maxTokens: 300 },
    });
    expect(body.inferenceConfig).toEqual({ temperature: 0.2 });
    const own = { messages: [], inferenceConfig: { maxTokens: 5 } };
    expect(withOutputCap({ provider: 'aws.bedrock', operation: 'converse' }, own, 300)).toBe(own);
    expect(withOutputCap({ provider: 'aws.bedrock', operation: 'converse' }, { messages: [] }, 7)).toEqual({
      messages: [],
      inferenceConfig: { maxTokens: 7 },
    });
  });

  it('refuse a malformed cap or inferenceConfig, naming the field', () => {
    const error = (() => {
      try {
        converse.requestedOutputCap({ inferenceConfig: { maxTokens: 0 } });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).field).toBe('inferenceConfig.maxTokens');
    expect(() => converse.requestedOutputCap({ inferenceConfig: 'big' })).toThrow(InvalidRequestError);
    expect(() => converse.checkBody({ messages: 'hi' })).toThrow(InvalidRequestError);
    expect(() => converse.checkBody({ messages: [], system: 'hi' })).toThrow(InvalidRequestError);
  });

  it('cap Nova bodies in inferenceConfig.max_new_tokens, Llama in max_gen_len (512 by default), Mistral in max_tokens', () => {
    expect(nova.requestedOutputCap({ inferenceConfig: { max_new_tokens: 9 } })).toBe(9);
    expect(
      withOutputCap({ provider: 'aws.bedrock', operation: 'invoke_nova' }, { messages: [] }, 11),
    ).toEqual({
      messages: [],
      inferenceConfig: { max_new_tokens: 11 },
    });
    expect(llama.requestedOutputCap({ prompt: 'x', max_gen_len: 40 })).toBe(40);
    expect(llama.defaultOutputCap).toBe(512);
    expect(llama.outputCapField('aws.bedrock')).toBe('max_gen_len');
    expect(mistral.defaultOutputCap).toBeUndefined();
    expect(
      withOutputCap({ provider: 'aws.bedrock', operation: 'invoke_mistral' }, { prompt: 'x' }, 12),
    ).toEqual({
      prompt: 'x',
      max_tokens: 12,
    });
  });

  it('tally Llama and Mistral prompts, Mistral chat messages, and Nova bodies like Converse', () => {
    expect(tally('invoke_llama', { prompt: '<|begin_of_text|>hi', max_gen_len: 5 }).texts).toEqual([
      '<|begin_of_text|>hi',
    ]);
    expect(tally('invoke_mistral', { prompt: '<s>[INST] hi [/INST]' }).texts).toEqual([
      '<s>[INST] hi [/INST]',
    ]);
    expect(tally('invoke_mistral', { messages: [{ role: 'user', content: 'hey' }] }).texts).toEqual(['hey']);
    expect(
      tally('invoke_nova', {
        schemaVersion: 'messages-v1',
        messages: [{ role: 'user', content: [{ text: 'one two' }] }],
      }).texts,
    ).toEqual(['one two']);
  });
});
