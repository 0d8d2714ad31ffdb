// Memory bank benchmark, run in Chromium by `npm run bench -- memory`: batched apply throughput on the
// real IndexedDB store, and top-60 hybrid retrieval latency (30 per speaker, BM25 + 384-dim cosine) over
// 1k, 10k and 100k memories, with the vector prefilter's recall against an exact scan.
import { MemoryIndex, MemoryStore, type Memory } from '../../src/memory';
import { rng as random } from '../../src/gpu/testing';

const DIM = 384;
/** A 5,000-word vocabulary drawn with Zipf frequencies, as words are in real memory text. */
const VOCABULARY = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);
const ZIPF = (() => {
  const weights = VOCABULARY.map((_, rank) => 1 / (rank + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let cumulative = 0;
  return weights.map((w) => (cumulative += w / total));
})();

const rand = random(42);
const gaussian = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
/** Embeddings drawn around 200 topic centres, as real sentence embeddings cluster by topic. */
const centres = Array.from({ length: 200 }, () => Float32Array.from({ length: DIM }, gaussian));
const embedding = (topic: number) => centres[topic % centres.length]!.map((c) => c + 1.2 * gaussian());
function zipfWord(): string {
  const u = rand();
  let lo = 0;
  let hi = ZIPF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ZIPF[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
}
/** About ten words: a few from the topic's own words (what the memory is about), the rest Zipf-common words. */
const sentence = (topic: number) =>
  [...Array.from({ length: 3 }, (_, i) => VOCABULARY[(topic * 31 + i * 7) % VOCABULARY.length]), ...Array.from({ length: 7 }, zipfWord)].join(' ');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function applyThroughput(batchSize: number, batches: number) {
  const store = await MemoryStore.open({ name: `bench-${batchSize}-${Date.now()}`, broadcast: false });
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    const ops = Array.from({ length: batchSize }, (_, i) => ({ event: 'ADD', text: sentence(b * batchSize + i), speaker: i % 2 ? 'A' : 'B' }));
    await store.apply('bench', ops, { actor: 'manager' });
  }
  const seconds = (performance.now() - started) / 1000;
  store.close();
  return { batch_size: batchSize, ops: batchSize * batches, ops_per_s: Math.round((batchSize * batches) / seconds) };
}

function retrieval(count: number, queries = 200) {
  const buildStarted = performance.now();
  const memories: Memory[] = Array.from({ length: count }, (_, i) => ({
    id: `m${i}`,
    bankId: 'bench',
    text: sentence(i),
    speaker: i % 2 ? 'A' : 'B',
    createdAt: i,
    updatedAt: i,
    version: 1,
    embedding: embedding(i),
  }));
  const index = new MemoryIndex(memories);
  const buildMs = performance.now() - buildStarted;
  const latencies: number[] = [];
  let found = 0;
  let total = 0;
  for (let q = 0; q < queries; q++) {
    const topic = Math.floor(rand() * 1000);
    const query = { text: sentence(topic), embedding: embedding(topic) };
    const started = performance.now();
    const groups = index.search(query, { perSpeaker: 30 });
    latencies.push(performance.now() - started);
    if (q % 10 === 0) {
      const exact = index.search(query, { perSpeaker: 30, exactVectors: true });
      groups.forEach((group, g) => {
        const truth = new Set(exact[g]!.memories.map((r) => r.memory.id));
        found += group.memories.filter((r) => truth.has(r.memory.id)).length;
        total += truth.size;
      });
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    memories: count,
    index_build_ms: Math.round(buildMs),
    p50_ms: +percentile(latencies, 50).toFixed(3),
    p95_ms: +percentile(latencies, 95).toFixed(3),
    top60_agreement_with_exact_vectors: +(found / total).toFixed(3),
  };
}

async function runMemoryBench() {
  const apply = [];
  for (const [size, batches] of [[1, 300], [10, 100], [100, 50], [1000, 10]] as const) {
    apply.push(await applyThroughput(size, batches));
    console.log(`apply: batches of ${size} done`);
  }
  const retrievalResults = [];
  for (const count of [1_000, 10_000, 100_000]) {
    retrievalResults.push(retrieval(count));
    console.log(`retrieval: ${count} memories done`);
  }
  return { embedding_dim: DIM, apply, retrieval: retrievalResults, targets: { retrieval_p95_ms_at_100k: 5, batched_apply_ops_per_s: 2000 } };
}

declare global {
  interface Window {
    runMemoryBench: typeof runMemoryBench;
  }
}
window.runMemoryBench = runMemoryBench;
