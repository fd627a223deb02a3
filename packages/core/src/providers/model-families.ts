/** The two BPE encodings Tollgate counts with; every current OpenAI model uses one of them. */
export type TiktokenEncodingName = 'o200k_base' | 'cl100k_base';

/** Models whose text one encoding counts, recognised by their bare name. */
export interface ModelFamily {
  readonly name: string;
  /** Matches bare model names (lower case, without router, fine-tune or cloud vendor prefixes). */
  readonly pattern: RegExp;
  readonly encoding: TiktokenEncodingName;
  /**
   * The family's own tokenizer is not public: `encoding` counts the text and a safety factor
   * scales it (the Claude approximation).
   */
  readonly approximated: boolean;
}

/**
 * Model families by name, first match wins. A model in none of them is counted as the
 * default family: OpenAI-compatible servers most often front current OpenAI models.
 * A provider whose models all belong to one family names it in its profile (`servesOnlyFamily`).
 */
export const MODEL_FAMILIES: readonly ModelFamily[] = [
  // Claude counts at least as many tokens as o200k_base on most text with cl100k_base.
  { name: 'claude', pattern: /^claude/, encoding: 'cl100k_base', approximated: true },
  // `gpt-4` followed by nothing or a dash is the original GPT-4 line; gpt-4o, gpt-4.1 and gpt-4.5 moved to o200k.
  { name: 'gpt-4', pattern: /^gpt-4(?:$|-)/, encoding: 'cl100k_base', approximated: false },
  { name: 'gpt-3.5', pattern: /^gpt-(?:3\.5|35)/, encoding: 'cl100k_base', approximated: false },
  {
    name: 'openai-embeddings',
    pattern: /^text-embedding-(?:3|ada-002)/,
    encoding: 'cl100k_base',
    approximated: false,
  },
  {
    name: 'openai-legacy-base',
    pattern: /^(?:davinci|babbage)-002/,
    encoding: 'cl100k_base',
    approximated: false,
  },
];

// Looked up on every call to a provider that serves one family: a Map, built once.
const FAMILIES_BY_NAME: ReadonlyMap<string, ModelFamily> = new Map(
  MODEL_FAMILIES.map((family) => [family.name, family]),
);

/** `gpt-4o*`, `gpt-4.1*`, `gpt-4.5*`, `gpt-5*`, the `o` series, `chatgpt-4o*`, and every model no family claims. */
export const DEFAULT_MODEL_FAMILY: ModelFamily = {
  name: 'openai-o200k',
  pattern: /(?:)/,
  encoding: 'o200k_base',
  approximated: false,
};

/**
 * The family a bare model name belongs to.
 *
 * @param bareName - A name as `normalizeModelName` returns it.
 * @returns The first family whose pattern matches, else `DEFAULT_MODEL_FAMILY`.
 */
export function familyOfBareName(bareName: string): ModelFamily {
  for (const family of MODEL_FAMILIES) if (family.pattern.test(bareName)) return family;
  return DEFAULT_MODEL_FAMILY;
}

/**
 * A family by its name.
 *
 * @param name - `ModelFamily.name`.
 * @returns The family, or `undefined` when none has that name.
 */
export function modelFamilyNamed(name: string): ModelFamily | undefined {
  return FAMILIES_BY_NAME.get(name);
}
