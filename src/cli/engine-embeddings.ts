// Text embeddings from a causal language model on our engine, for `memory-r1 serve`'s /v1/embeddings:
// the mean over the text's tokens of the final hidden state (after the last RMSNorm, what the LM head
// reads), scaled to unit length. A decoder model is no trained embedding model, so these suit tests and
// offline use; for real retrieval quality point --endpoint-embedding-model at a dedicated one.
import { forward, releaseForwardRecord, type ForwardRecord } from '../model/forward';
import { KvCache } from '../model/kv-cache';
import type { Engine } from '../model/engine';

export async function embedOnEngine(engine: Engine, texts: readonly string[]): Promise<{ vectors: Float32Array[]; tokens: number }> {
  const rt = engine.runtime;
  const C = engine.config.hiddenSize;
  const vectors: Float32Array[] = [];
  let tokens = 0;
  for (const text of texts) {
    // Long texts keep their first maxTokens tokens; an empty text embeds as its special tokens.
    const ids = engine.tokenizer.encode(text, { addSpecialTokens: true }).slice(0, engine.maxTokens);
    if (ids.length === 0) throw new Error('a text to embed gives no tokens');
    engine.checkIds(ids, 'embeddings');
    tokens += ids.length;
    const T = ids.length;
    const idTensor = rt.upload(Uint32Array.from(ids), [T], 'u32');
    const cache = new KvCache(rt, engine.config, T, true);
    const record: ForwardRecord = { layers: [] };
    try {
      const logits = forward(rt, engine.config, engine.weights, { ids: idTensor, T, cache, adapter: null, logitRows: { start: 0, count: T }, record });
      if (logits) rt.release(logits);
      const hidden = await rt.download(record.normed!);
      const mean = new Float32Array(C);
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) mean[c]! += hidden[t * C + c]! / T;
      let norm = 0;
      for (let c = 0; c < C; c++) norm += mean[c]! * mean[c]!;
      norm = Math.sqrt(norm) || 1;
      for (let c = 0; c < C; c++) mean[c]! /= norm;
      vectors.push(mean);
    } finally {
      releaseForwardRecord(rt, record);
      cache.release();
      rt.release(idTensor);
      rt.flush();
    }
  }
  return { vectors, tokens };
}
