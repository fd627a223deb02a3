import { jsonText } from './untrusted-json';

/** What the model and provider are, for the parts of a request whose cost depends on them. */
export interface TallyContext {
  readonly model: string;
  /** The text is for a Claude model (Anthropic API or an OpenAI-compatible gateway in front of one). */
  readonly claude: boolean;
}

/**
 * Collects what a request will be billed for, in two kinds: text still to be tokenized,
 * and tokens already known (fixed overheads, attachment bounds, pre-tokenized input).
 * Walking the request first lets the estimator decide between the tokenizer and the
 * byte bound from the total text size, before any tokenizing starts.
 */
export class RequestTally {
  readonly texts: string[] = [];
  knownTokens = 0;

  constructor(readonly context: TallyContext) {}

  /** Adds text the provider tokenizes. Empty strings add nothing. */
  addText(text: string): void {
    if (text.length > 0) this.texts.push(text);
  }

  /** Adds tokens known without tokenizing: overheads, attachment bounds, token arrays. */
  addTokens(tokens: number): void {
    if (Number.isFinite(tokens) && tokens > 0) this.knownTokens += Math.ceil(tokens);
  }

  /** Adds a value that should be text: strings as they are, anything else as its JSON. */
  addValue(value: unknown): void {
    if (value === undefined || value === null) return;
    this.addText(typeof value === 'string' ? value : jsonText(value));
  }

  /**
   * Adds message content as every API shapes it: an array of parts, each counted by
   * `addPart`, or a single value (a string, or null for a message that only calls tools).
   */
  addContent(content: unknown, addPart: (part: unknown, tally: RequestTally) => void): void {
    if (!Array.isArray(content)) {
      this.addValue(content);
      return;
    }
    for (const part of content) addPart(part, this);
  }
}
