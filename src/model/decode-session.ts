// The contract between the GPU engine (model/engine.ts) and the generation layer (sampling, stop
// strings, constrained decoding) built on top of it. A session owns one KV cache: tokens are appended,
// and after every append the logits of the LAST appended position are "current".

export interface TopKResult {
  /** The k largest current logits, raw (NOT divided by the temperature), sorted descending. */
  values: Float32Array;
  /** Their token ids. */
  indices: Uint32Array;
  /**
   * log Σ exp(logit / T) over the whole row (T = 0 → 1): probabilities are exp(value / T − lse),
   * exactly what gpu/kernels/sampling.ts's sampleTopP(values, indices, lse, {temperature}) expects.
   */
  lse: number;
}

export interface DecodeSession {
  /** Appends tokens (prefill; one token is a decode step); the last position's logits become current. */
  append(ids: number[]): Promise<void>;
  /** The k best current logits, sorted desc, their token ids, and the row's log-sum-exp at this temperature (temperature 0 → use 1). */
  topK(k: number, temperature: number): Promise<TopKResult>;
  /** All current logits [vocabSize] (for a full-vocabulary scan when constrained decoding finds no allowed token in the top k). */
  logits(): Promise<Float32Array>;
  /** Number of tokens in the context so far. */
  readonly length: number;
  /** The most tokens this session can hold (its KV cache size). */
  readonly maxTokens: number;
  /** Frees the KV cache; the session cannot be used afterwards. */
  dispose(): void;
}
