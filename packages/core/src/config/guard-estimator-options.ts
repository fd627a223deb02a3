import type { TokenEstimatorOptions } from '../tokens/token-estimator-options';

/** A guard's token estimation knobs: the estimator's own, and which tokenizers to build after start-up. */
export interface GuardEstimatorOptions extends TokenEstimatorOptions {
  /**
   * Tokenizers built in the background after start-up, so calls are counted exactly as soon
   * as possible without any call waiting for a build. `true`: those of the models the
   * configuration names (rate limits, budget matches, fallback targets), or o200k_base when it
   * names none. A list: those of these models. `false`: none; each encoding is then built in
   * the background when a call first needs it. Until a model's tokenizer is ready its calls are
   * estimated by the byte bound (unless `waitForTokenizer` is `true`).
   *
   * @default true
   */
  warmUp?: boolean | readonly string[];
}

/** The guard's estimator options after validation: the guard never waits for a tokenizer unless told to. */
export interface NormalizedGuardEstimator extends GuardEstimatorOptions {
  readonly waitForTokenizer: boolean;
}
