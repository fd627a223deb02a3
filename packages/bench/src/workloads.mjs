// What every variant is configured with, and the prompts the token benchmarks count.

/** Budgets and rate limits that apply to every call but never bind at benchmark rates. */
export function gatedConfig() {
  return {
    budgets: [
      { id: 'daily-usd', limit: { usd: 1_000_000 }, window: 'day' },
      { id: 'tenant-tokens', per: ['tenant'], limit: { tokens: 1e12 }, window: 'month' },
    ],
    rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 10_000_000, tpm: 1e12 }],
  };
}

/**
 * The rate-limit tier the realistic-replies section runs at: the mock advertises it in its
 * `x-ratelimit-*` headers and Tollgate's limits are set to the same figures. Tier-5-sized
 * for a small model, so the benchmark's calls stay well inside it.
 */
export const PROVIDER_TIER = { requestsPerMinute: 30_000, tokensPerMinute: 150_000_000 };

/** `gatedConfig()` with the rate limit at the provider's advertised tier instead of out of reach. */
export function tierConfig() {
  return {
    ...gatedConfig(),
    rateLimits: [
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        rpm: PROVIDER_TIER.requestsPerMinute,
        tpm: PROVIDER_TIER.tokensPerMinute,
      },
    ],
  };
}

const COMMON = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up ' +
  'other about out many then them these so some her would make like him into time has look two more write ' +
  'go see number no way could people my than first water been call who oil its now find long down day did ' +
  'get come made may part budget request model token limit process server client latency report quarter ' +
  'revenue growth customer support invoice contract schedule meeting summary analysis forecast'
).split(' ');

const SYLLABLES = 'ka lo mi ne ru sa ti vo wen tor pel dax qui zor fen gri hal bru cet dov'.split(' ');

/** A small deterministic PRNG (mulberry32), so every run counts the same text. */
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Prompt-like text of about `tokens` o200k tokens: common English words, invented words
 * (so the vocabulary keeps growing, as real documents' names and jargon do), numbers,
 * punctuation, and now and then a line of code.
 */
export function promptText(tokens, seed) {
  const next = random(seed);
  const parts = [];
  // ~1.6 o200k tokens per word on this mix, measured; the counters report the exact figure.
  const words = Math.ceil(tokens / 1.6);
  for (let word = 0; word < words; word++) {
    const roll = next();
    if (roll < 0.78) parts.push(COMMON[Math.floor(next() * COMMON.length)]);
    else if (roll < 0.9) {
      const length = 2 + Math.floor(next() * 3);
      let invented = '';
      for (let s = 0; s < length; s++) invented += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
      parts.push(invented);
    } else if (roll < 0.95) parts.push(String(Math.floor(next() * 100_000)));
    else if (roll < 0.985) parts.push(`${COMMON[Math.floor(next() * COMMON.length)]},`);
    else parts.push(`\nconst value${Math.floor(next() * 1000)} = compute(${Math.floor(next() * 10)});\n`);
    if (next() < 0.06) parts.push('.\n');
  }
  return parts.join(' ');
}
