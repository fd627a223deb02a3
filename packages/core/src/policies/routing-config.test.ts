import { afterEach, describe, expect, it } from 'vitest';
import type { GuardConfig } from '../config/guard-config';
import { TollgateConfigError } from '../errors/config-error';
import { createGuard } from '../guard/guard';
import { chat, closeGuards, guardWith } from '../guard/test-support';

afterEach(closeGuards);

const usdBudget = { id: 'daily', limit: { usd: 10 }, window: 'day' } as const;

/** The config error `config` is refused with. */
function refusal(config: unknown): TollgateConfigError {
  try {
    void createGuard(config as GuardConfig).close();
  } catch (error) {
    if (TollgateConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('routing rules in the configuration', () => {
  it.each([
    [
      'a cheapest rule with one model',
      { policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini'] }] },
      'policies[0].models',
      /at least two/,
    ],
    [
      'a model listed twice',
      { policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini', 'GPT-4o-mini'] }] },
      'policies[0].models[1]',
      /listed twice/,
    ],
    [
      'an empty model id',
      { policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini', ' '] }] },
      'policies[0].models[1]',
      /non-empty string/,
    ],
    [
      'a cheapest rule with a match',
      { policies: [{ id: 'c', action: 'cheapest', models: ['a', 'b'], match: { feature: 'x' } }] },
      'policies[0].match',
      /only applies to action 'reject'/,
    ],
    [
      'a fallback rule without when',
      { policies: [{ id: 'f', action: 'fallback', models: { a: 'b' } }] },
      'policies[0].when',
      /is required/,
    ],
    [
      'circuitOpen on a reject rule',
      {
        budgets: [usdBudget],
        policies: [
          { id: 'r', action: 'reject', when: { budget: 'daily', usedAbove: 0.5, circuitOpen: true } },
        ],
      },
      'policies[0].when.circuitOpen',
      /'fallback' and 'cheapest'/,
    ],
    [
      'a misspelt provider in a fallback target',
      {
        policies: [
          {
            id: 'f',
            when: { circuitOpen: true },
            action: 'fallback',
            models: { 'gpt-4o': 'antropic:claude-haiku-4-5' },
          },
        ],
      },
      'policies[0].models.gpt-4o',
      /provider "antropic", which Tollgate does not know \(known: .*anthropic/,
    ],
    [
      'a misspelt provider in a fallback key',
      {
        policies: [
          {
            id: 'f',
            when: { circuitOpen: true },
            action: 'fallback',
            models: { 'opnai:gpt-4o': 'gpt-4o-mini' },
          },
        ],
      },
      'policies[0].models',
      /provider "opnai"/,
    ],
    [
      'a misspelt provider in a cheapest list',
      { policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini', 'googl:gemini-2.0-flash'] }] },
      'policies[0].models[1]',
      /provider "googl"/,
    ],
    [
      'a provider with no model',
      { policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini', 'anthropic:'] }] },
      'policies[0].models[1]',
      /no model after the colon/,
    ],
    [
      'an unpriced cross-provider target under a USD budget',
      {
        budgets: [usdBudget],
        policies: [
          {
            id: 'f',
            when: { circuitOpen: true },
            action: 'fallback',
            models: { 'gpt-4o': 'anthropic:claude-haiku-9' },
          },
        ],
      },
      'policies[0].models.gpt-4o',
      /"claude-haiku-9", which has no price/,
    ],
    [
      'an unpriced cheapest candidate under a USD budget',
      {
        budgets: [usdBudget],
        policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini', 'gpt-4o-mni'] }],
      },
      'policies[0].models[1]',
      /which has no price/,
    ],
  ])('refuses %s, naming the path', (_what, config, field, problem) => {
    const error = refusal(config);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(problem);
  });

  it('reads a colon after an unknown prefix as part of the model name', async () => {
    const { guard } = guardWith({
      policies: [
        { id: 'f', when: { circuitOpen: true }, action: 'fallback', models: { 'llama3:70b': 'llama3:8b' } },
      ],
    });
    guard.circuits.open('openai', 'llama3:70b');
    expect(await guard.admit(chat('llama3:70b', 50))).toMatchObject({
      provider: 'openai',
      model: 'llama3:8b',
    });
  });

  it('accepts an unpriced candidate when no USD budget applies to it', () => {
    const { guard } = guardWith({
      budgets: [{ ...usdBudget, match: { provider: 'openai' } }],
      policies: [{ id: 'c', action: 'cheapest', models: ['gpt-4o-mini', 'anthropic:claude-house'] }],
    });
    expect(guard).toBeDefined();
  });
});
