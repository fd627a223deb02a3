import {
  familyOfBareName,
  type ModelFamily,
  modelFamilyNamed,
  type TiktokenEncodingName,
} from '../providers/model-families';
import { modelIdVendorTags, providerProfile } from '../providers/provider-profiles';

export type { TiktokenEncodingName };

/** Cloud vendor tags read from the provider profiles once: `normalizeModelName` runs on every call. */
const VENDOR_TAGS = modelIdVendorTags();
/** Families are looked up several times per call; the cap keeps made-up model names from growing memory. */
const FAMILY_CACHE_LIMIT = 1_000;
const familyByModel = new Map<string, ModelFamily>();

/**
 * Reduces a model id as users send it to the bare model name: lower case, without a
 * gateway prefix (`openai/gpt-4o`), a fine-tune prefix (`ft:gpt-4o-mini-…`) or a cloud
 * vendor prefix (Bedrock's `us.anthropic.claude-…`; the tags come from the provider profiles).
 *
 * @param model - The model named in the request.
 * @returns The bare model name used for family lookups.
 */
export function normalizeModelName(model: string): string {
  let name = model.trim().toLowerCase();
  if (name.startsWith('ft:')) name = name.slice('ft:'.length);
  const slash = name.lastIndexOf('/');
  if (slash >= 0) name = name.slice(slash + 1);
  for (const tag of VENDOR_TAGS) {
    const vendor = name.indexOf(tag);
    if (vendor >= 0) return name.slice(vendor + tag.length);
  }
  return name;
}

/**
 * The model family whose encoding counts a model's text (`MODEL_FAMILIES`).
 *
 * @param model - The model named in the request.
 * @param provider - The provider the call goes to, when known: a provider serving one family
 *   (Anthropic: Claude) decides it whatever the model id.
 * @returns The family; the default family (o200k_base) for a model no family claims.
 */
export function modelFamily(model: string, provider?: string): ModelFamily {
  return familyServedBy(provider) ?? familyOfModel(model);
}

/**
 * Whether a model is a Claude model, whose tokenizer is not public.
 *
 * @param model - The model named in the request.
 * @param provider - The provider the call goes to, when known; `anthropic` implies Claude.
 * @returns `true` when token counts for this model must be approximated.
 */
export function isClaudeModel(model: string, provider?: string): boolean {
  return modelFamily(model, provider).approximated;
}

/**
 * The BPE encoding used to count text for a model, from the model family table
 * (`providers/model-families.ts`).
 *
 * `cl100k_base` for the GPT-4 (non-`o`) and GPT-3.5 families, the embedding models
 * `text-embedding-3-*` and `text-embedding-ada-002`, the legacy `davinci-002` and
 * `babbage-002` completion models, and Claude (as the base of the approximation: it
 * counts at least as many tokens as `o200k_base` on most text). `o200k_base` for every
 * other model: `gpt-4o*`, `gpt-4.1*`, `gpt-4.5*`, `gpt-5*`, the `o` series, `chatgpt-4o*`,
 * and any model Tollgate does not recognise, because OpenAI-compatible servers most
 * often front current OpenAI models.
 *
 * @param model - The model named in the request.
 * @returns The encoding name.
 * @example
 * encodingForModel('gpt-4o-mini'); // 'o200k_base'
 * encodingForModel('gpt-4-turbo'); // 'cl100k_base'
 */
export function encodingForModel(model: string): TiktokenEncodingName {
  return familyOfModel(model).encoding;
}

function familyServedBy(provider: string | undefined): ModelFamily | undefined {
  const only = providerProfile(provider)?.servesOnlyFamily;
  return only === undefined ? undefined : modelFamilyNamed(only);
}

/** The family of a model id, memoised: a hit costs one map lookup and no string work. */
function familyOfModel(model: string): ModelFamily {
  const cached = familyByModel.get(model);
  if (cached !== undefined) return cached;
  const family = familyOfBareName(normalizeModelName(model));
  if (familyByModel.size >= FAMILY_CACHE_LIMIT) {
    // Maps iterate in insertion order, so this drops the oldest entry.
    const oldest = familyByModel.keys().next().value;
    if (oldest !== undefined) familyByModel.delete(oldest);
  }
  familyByModel.set(model, family);
  return family;
}

/** Major and minor version of a Claude model, e.g. `{ major: 4, minor: 7 }` for `claude-opus-4-7`. */
export interface ClaudeVersion {
  major: number;
  minor: number;
}

/**
 * Reads the version out of a Claude model id in either naming scheme
 * (`claude-3-5-sonnet-20241022`, `claude-sonnet-4-5`, `claude-opus-4-20250514`, `claude-3.7-sonnet`).
 *
 * @param model - The model named in the request.
 * @returns The version, or `undefined` when the id carries none (callers treat that as the newest model).
 */
export function claudeVersion(model: string): ClaudeVersion | undefined {
  const name = normalizeModelName(model);
  // A minor version is one or two digits; an eight-digit date suffix is not one.
  const familyFirst = /^claude-[a-z]+-(\d+)(?:[-.](\d{1,2})(?!\d))?/.exec(name);
  if (familyFirst?.[1] !== undefined) {
    return { major: Number(familyFirst[1]), minor: Number(familyFirst[2] ?? 0) };
  }
  const versionFirst = /^claude-(\d+)(?:[-.](\d{1,2})(?!\d))?/.exec(name);
  if (versionFirst?.[1] !== undefined) {
    return { major: Number(versionFirst[1]), minor: Number(versionFirst[2] ?? 0) };
  }
  return undefined;
}

/**
 * Whether a Claude model uses the tokenizer introduced with Claude Opus 4.7, which
 * yields up to ~1.35× (measured up to ~1.47×) the tokens of earlier Claude models.
 * Ids without a version are assumed to be new models.
 *
 * @param model - The model named in the request.
 * @returns `true` for Claude 4.7 and later, and for unversioned Claude ids.
 */
export function usesLateClaudeTokenizer(model: string): boolean {
  const version = claudeVersion(model);
  if (version === undefined) return true;
  return version.major > 4 || (version.major === 4 && version.minor >= 7);
}
