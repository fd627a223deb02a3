import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { RequestTally } from '../tokens/request-tally';
import { genAiOperationName, type OperationName, requestShapeOf } from './request-shape-registry';

const OPERATIONS: readonly OperationName[] = [
  'chat',
  'responses',
  'embeddings',
  'text_completion',
  'messages',
  'generate_content',
];

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the request shape registry', () => {
  it('has a shape for every operation name', () => {
    for (const operation of OPERATIONS) expect(requestShapeOf(operation)).toBeDefined();
  });

  it('knows no shape for other names, prototype members included', () => {
    for (const operation of ['converse_later', 'constructor', 'toString', '__proto__']) {
      expect(requestShapeOf(operation)).toBeUndefined();
    }
  });

  it('names the GenAI operation: chat for Responses and Messages, the operation itself when unknown', () => {
    expect(OPERATIONS.map((operation) => genAiOperationName({ operation }))).toEqual([
      'chat',
      'chat',
      'embeddings',
      'text_completion',
      'chat',
      'generate_content',
    ]);
    expect(genAiOperationName({ operation: 'converse_later' })).toBe('converse_later');
  });

  it('writes the cap for each provider into the field its chat endpoint reads', () => {
    const chat = requestShapeOf('chat')!;
    expect(chat.outputCapField('openai')).toBe('max_completion_tokens');
    expect(chat.outputCapField('azure.ai.openai')).toBe('max_completion_tokens');
    expect(chat.outputCapField('groq')).toBe('max_tokens');
    expect(chat.outputCapField('constructor')).toBe('max_tokens');
  });

  it('counts nothing twice: each shape tallies its own fields only', () => {
    const body = { messages: [{ role: 'user', content: 'hi' }], input: 'other', prompt: 'third' };
    const chat = new RequestTally({ model: 'gpt-4o', claude: false });
    requestShapeOf('chat')!.tallyInput(body, chat);
    expect(chat.texts).toEqual(['hi']);
    const embeddings = new RequestTally({ model: 'text-embedding-3-small', claude: false });
    requestShapeOf('embeddings')!.tallyInput(body, embeddings);
    expect(embeddings.texts).toEqual(['other']);
  });
});

describe('checkBody', () => {
  it.each([
    ['chat', 'messages', 'Hello'],
    ['chat', 'messages', { role: 'user', content: 'Hello' }],
    ['messages', 'messages', 42],
    ['responses', 'input', { role: 'user' }],
    ['embeddings', 'input', 7],
    ['text_completion', 'prompt', true],
  ] as const)('refuses %s with %s = %j, naming the field', (operation, field, value) => {
    const error = thrownBy(() => requestShapeOf(operation)!.checkBody({ [field]: value }));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ field, code: InvalidRequestError.code });
    expect((error as Error).message).toContain(`Invalid request field ${field}`);
  });

  it.each([
    ['chat', { messages: [] }],
    ['chat', {}],
    ['chat', { messages: null }],
    ['messages', { messages: [{ role: 'user', content: 'x' }] }],
    ['responses', { input: 'Hello' }],
    ['responses', { input: [] }],
    ['embeddings', { input: ['a', 'b'] }],
    ['text_completion', { prompt: [1, 2, 3] }],
  ] as const)('accepts a well-formed or unset field (%s %j)', (operation, body) => {
    expect(() => requestShapeOf(operation)!.checkBody(body)).not.toThrow();
  });
});
