// Fixed token allowances for what providers bill beyond the text of a request: chat
// framing, tool rendering and server-side instructions. Each is chosen to sit at or above
// the figures providers publish or that live bills show; docs/token-estimation.md lists
// them with their sources.

/**
 * Per chat message: the `<|start|>{role}` / `<|end|>`-style framing (3 tokens in OpenAI's
 * published counting recipe) plus 1 for the role name, which Tollgate does not tokenize.
 */
export const OPENAI_TOKENS_PER_MESSAGE = 4;

/** A message `name` costs its text plus this separator. */
export const OPENAI_TOKENS_PER_NAME = 1;

/**
 * Every reply is primed with an assistant header. With the per-message 4, a one-message
 * request of ~19 text tokens is estimated at ≥ 26, above the 22 billed in the field notes.
 */
export const OPENAI_REPLY_PRIMING_TOKENS = 3;

/** Separator allowance for each part of a multi-part message content array. */
export const OPENAI_TOKENS_PER_CONTENT_PART = 2;

/** Rendering of one tool call or function call in history (`functions.name` + markers), beyond name and arguments. */
export const OPENAI_TOKENS_PER_TOOL_CALL = 8;

/**
 * Per function tool, on top of its JSON. OpenAI renders tool schemas as a TypeScript-like
 * namespace, which is shorter than the JSON for any real schema but has a fixed header:
 * a schema-less tool renders to ~20 o200k tokens where its JSON is ~11. 24 covers that
 * header; a small weather tool then estimates at ~69 tokens where the field notes saw
 * ~21 billed above the text.
 */
export const OPENAI_TOKENS_PER_FUNCTION_TOOL = 24;

/** Framing around a structured-output JSON schema (`response_format` / `text.format`), on top of its JSON. */
export const OPENAI_TOKENS_PER_RESPONSE_FORMAT = 24;

/**
 * Per built-in tool (web search, file search, code interpreter, MCP, computer use, image
 * generation, local shell, …): the server-side instructions billed as input. Live bills
 * show ~290 input tokens for prompts of under 40 text tokens; 400 bounds that. Search
 * results, retrieved chunks and MCP tool lists fetched during the call are not included.
 */
export const OPENAI_TOKENS_PER_BUILT_IN_TOOL = 400;

/** Anthropic request framing and the assistant turn that primes the reply. */
export const ANTHROPIC_TOKENS_PER_REQUEST = 5;

/** Per Anthropic message (role markers), and once for a system prompt. */
export const ANTHROPIC_TOKENS_PER_MESSAGE = 5;

/** Per content block inside a message or system prompt. */
export const ANTHROPIC_TOKENS_PER_BLOCK = 3;

/**
 * The tool-use system prompt Anthropic adds whenever `tools` is non-empty. Published
 * figures run 159–530 tokens per model (346 for `auto`/`none` and 313 for `any`/`tool` on
 * the 3.5–4.x models; 530 for Claude 3 Opus `auto`). 530 is the largest and still covers
 * 346 inflated by the 4.7 tokenizer's stated 1.35×.
 */
export const ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS = 530;

/** Per custom (client) tool, on top of its JSON definition. */
export const ANTHROPIC_TOKENS_PER_CUSTOM_TOOL = 24;

/**
 * Per Anthropic-defined tool (bash, text editor, web search, web fetch, code execution,
 * memory, …) on top of its JSON. Published: bash 245, text editor 700; 1,000 covers the
 * text editor inflated by 1.35× for the newer tokenizer.
 */
export const ANTHROPIC_TOKENS_PER_DEFINED_TOOL = 1000;

/** Computer use: 735 for the tool definition plus a ~466–499 token system prompt, times 1.35. */
export const ANTHROPIC_TOKENS_PER_COMPUTER_USE_TOOL = 1700;

/** Per remote MCP server (`mcp_servers`): its tool list is fetched server-side; sized like an OpenAI built-in tool. */
export const ANTHROPIC_TOKENS_PER_MCP_SERVER = 400;
