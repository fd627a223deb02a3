import type { ProviderName } from '../call/llm-call';

/** What a model is used for; tells the estimator which request shape to expect. */
export type ModelKind = 'chat' | 'reasoning' | 'embedding' | 'completion';

/**
 * A long-context price tier. When a request's input tokens (cache reads and writes included)
 * exceed `aboveInputTokens`, the whole request, output included, is billed at this tier's
 * prices. All prices are in the table's currency per 1M tokens.
 */
export interface LongContextTier {
  /** The tier applies when input tokens are strictly greater than this. */
  readonly aboveInputTokens: number;
  readonly input: number;
  readonly output: number;
  /** Cache-read price in this tier. @default this tier's `input` */
  readonly cachedInput?: number;
  /** Cache-write price in this tier. @default this tier's `input` */
  readonly cacheWrite?: number;
}

/**
 * The price of one model. Prices are in the table's currency (USD) per 1M tokens, except
 * `perRequest`, which is in currency units per request. Every figure is a copy of a public
 * price list: costs computed from it are estimates.
 */
export interface ModelPrice {
  /** The provider that bills this model; checked against a `openai/`-style prefix when resolving. */
  readonly provider?: ProviderName;
  /** What the model is used for. */
  readonly kind?: ModelKind;
  /** The provider's pricing page the figures were copied from. */
  readonly source?: string;
  /** Uncached input tokens. */
  readonly input: number;
  /** Input tokens read from the provider's prompt cache. @default `input` */
  readonly cachedInput?: number;
  /** Input tokens written to the prompt cache (Anthropic's 5-minute write; OpenAI's 30-minute write). @default `input` */
  readonly cacheWrite?: number;
  /** Output tokens, reasoning included unless `reasoningOutput` is set. */
  readonly output: number;
  /** Reasoning output tokens, only where the provider bills them apart from output. @default `output` */
  readonly reasoningOutput?: number;
  /** A flat charge per request, in currency units (not per 1M tokens). @default 0 */
  readonly perRequest?: number;
  /** Long-context tiers, in ascending `aboveInputTokens` order. */
  readonly longContext?: readonly LongContextTier[];
  /** The most output tokens one response can have. */
  readonly maxOutputTokens?: number;
  /** The most tokens (input plus output) one request can hold. */
  readonly contextWindow?: number;
  /** Other names for this model that resolve to it (case-insensitive). */
  readonly aliases?: readonly string[];
}

/** A partial `ModelPrice` merged over a known model, or a full one (with `input` and `output`) for a new model. */
export type ModelPriceOverride = Partial<ModelPrice>;

/** The shape of `prices.json`. */
export interface PriceTableData {
  /** Free text for maintainers; ignored by the code. */
  readonly _maintenance?: string;
  /** The currency every price is in. Only `'USD'` is accepted, because budgets are kept in USD. */
  readonly currency: string;
  /** The day the figures were last checked against their sources, as `YYYY-MM-DD`. */
  readonly checkedAt: string;
  /** The unit of every token price. Only `'per 1M tokens'` is accepted. */
  readonly unit: string;
  /** Prices keyed by canonical model id. */
  readonly models: Readonly<Record<string, ModelPrice>>;
}

/** The result of resolving a requested model name against a price table. */
export interface ResolvedModelPrice {
  /** The canonical key of the price that was found. */
  readonly model: string;
  /** The model name exactly as it was asked for. */
  readonly requestedModel: string;
  readonly price: ModelPrice;
}
