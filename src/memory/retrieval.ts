// Hybrid retrieval over one bank: BM25 on the text and cosine on embeddings, fused by reciprocal rank,
// the best k per speaker (Memory-R1 retrieves 30 per speaker, 60 in all). The index lives in memory and
// follows every change the store applies; it is built once per bank, never per query.
import { Bm25Index } from './bm25';
import type { Memory } from './schema';
import { SlotHeap, topK } from './top-k';
import { VectorIndex } from './vectors';

/** Reciprocal-rank-fusion constant (the usual 60: later ranks still count, the top ones dominate). */
const RRF_K = 60;
export const DEFAULT_PER_SPEAKER = 30;

export interface RetrievalQuery {
  text: string;
  /** The query's embedding from the same embedder as the memories'; without it retrieval is lexical only. */
  embedding?: Float32Array;
}

export interface RetrievalOptions {
  /** How many memories per speaker (default 30). */
  perSpeaker?: number;
  /** Only these speakers (memories without a speaker are the speaker ""); default: every speaker in the bank. */
  speakers?: readonly string[];
  /** Fill a speaker's list with its most recent memories when fewer than perSpeaker match (default true). */
  fillWithRecent?: boolean;
  /** Score vectors exactly instead of coarse to exact (for measuring; slower on large banks). */
  exactVectors?: boolean;
}

export interface Retrieved {
  memory: Memory;
  score: number;
  lexicalRank?: number;
  vectorRank?: number;
  /** Why it was picked: matched the text and/or the embedding, or filled in as recent. */
  via: 'lexical' | 'vector' | 'both' | 'recent';
}

export interface RetrievedGroup {
  speaker: string;
  memories: Retrieved[];
}

export class MemoryIndex {
  private readonly lexical = new Bm25Index();
  private readonly vectors = new VectorIndex();
  private readonly slotOf = new Map<string, number>();
  private readonly memories: (Memory | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Per slot, a small code for its speaker (-1 = empty slot), so a query maps slots to groups in one typed pass. */
  private speakerCodes = new Int32Array(256).fill(-1);
  private readonly speakerCode = new Map<string, number>();
  private readonly speakerCount: number[] = [];
  /** Memories whose embedding could not be indexed (another dimension than the rest). */
  skippedEmbeddings = 0;

  constructor(memories: Iterable<Memory> = []) {
    for (const memory of memories) this.upsert(memory);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Bytes held for embeddings (WebAssembly memory or typed arrays). */
  get vectorBytes(): number {
    return this.vectors.bytes;
  }

  /** Speakers with at least one memory, sorted. */
  speakers(): string[] {
    return [...this.speakerCode].filter(([, code]) => this.speakerCount[code]! > 0).map(([speaker]) => speaker).sort();
  }

  upsert(memory: Memory): void {
    let slot = this.slotOf.get(memory.id);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.memories.length;
      this.slotOf.set(memory.id, slot);
    }
    // The vector index keeps its own normalised copy; do not hold the embedding twice.
    const { embedding, ...withoutEmbedding } = memory;
    this.memories[slot] = withoutEmbedding;
    this.setSpeakerCode(slot, memory.speaker ?? '');
    this.lexical.set(slot, memory.text);
    this.vectors.remove(slot);
    if (embedding && !this.vectors.set(slot, embedding, this.speakerCodes[slot]!)) this.skippedEmbeddings++;
  }

  private setSpeakerCode(slot: number, speaker: string): void {
    let code = this.speakerCode.get(speaker);
    if (code === undefined) this.speakerCode.set(speaker, (code = this.speakerCode.size));
    const previous = this.speakerCodes[slot] ?? -1;
    if (previous >= 0) this.speakerCount[previous]!--;
    this.speakerCount[code] = (this.speakerCount[code] ?? 0) + 1;
    if (slot >= this.speakerCodes.length) {
      const grown = new Int32Array(Math.max(slot + 1, this.speakerCodes.length * 2)).fill(-1);
      grown.set(this.speakerCodes);
      this.speakerCodes = grown;
    }
    this.speakerCodes[slot] = code;
  }

  remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.lexical.remove(slot);
    this.vectors.remove(slot);
    this.memories[slot] = undefined;
    this.speakerCount[this.speakerCodes[slot]!]!--;
    this.speakerCodes[slot] = -1;
    this.slotOf.delete(id);
    this.freeSlots.push(slot);
  }

  /** Follows a change applied by the store: `after` null means deleted. */
  apply(change: { memoryId?: string; after: Memory | null }): void {
    if (change.after) this.upsert(change.after);
    else if (change.memoryId) this.remove(change.memoryId);
  }

  search(query: RetrievalQuery, options: RetrievalOptions = {}): RetrievedGroup[] {
    const perSpeaker = options.perSpeaker ?? DEFAULT_PER_SPEAKER;
    const speakers = options.speakers ? [...options.speakers] : this.speakers();
    const groupIndex = new Map(speakers.map((speaker, i) => [speaker, i]));
    // Speaker code → group once per query (-1: a speaker not asked for); slots map to codes already.
    const groupOfCode = new Int16Array(this.speakerCode.size).fill(-1);
    for (const [speaker, code] of this.speakerCode) groupOfCode[code] = groupIndex.get(speaker) ?? -1;
    const codes = this.speakerCodes;
    const depth = perSpeaker * 2; // each ranked list contributes this many candidates to the fusion

    const hits = this.lexical.search(query.text);
    const lexicalBest = speakers.map(() => new SlotHeap(depth));
    for (let i = 0; i < hits.count; i++) {
      const slot = hits.slots[i]!;
      const group = groupOfCode[codes[slot]!]!;
      if (group >= 0) lexicalBest[group]!.offer(hits.scores[i]!, slot);
    }
    const lexicalRanked = lexicalBest.map((heap) => heap.sorted().map(([slot]) => slot));
    const vectorHits = query.embedding
      ? this.vectors.search(query.embedding, groupOfCode, speakers.length, depth, { exact: options.exactVectors })
      : speakers.map(() => []);

    return speakers.map((speaker, group) => {
      const fused = new Map<number, { score: number; lexicalRank?: number; vectorRank?: number }>();
      lexicalRanked[group]!.forEach((slot, rank) => fused.set(slot, { score: 1 / (RRF_K + rank + 1), lexicalRank: rank + 1 }));
      vectorHits[group]!.forEach(({ slot }, rank) => {
        const entry = fused.get(slot) ?? { score: 0 };
        entry.score += 1 / (RRF_K + rank + 1);
        entry.vectorRank = rank + 1;
        fused.set(slot, entry);
      });
      const memories: Retrieved[] = topK(fused.entries(), ([, entry]) => entry.score, perSpeaker).map(({ item: [slot, entry] }) => {
        const retrieved: Retrieved = {
          memory: this.memories[slot]!,
          score: entry.score,
          via: entry.lexicalRank && entry.vectorRank ? 'both' : entry.lexicalRank ? 'lexical' : 'vector',
        };
        if (entry.lexicalRank) retrieved.lexicalRank = entry.lexicalRank;
        if (entry.vectorRank) retrieved.vectorRank = entry.vectorRank;
        return retrieved;
      });
      if ((options.fillWithRecent ?? true) && memories.length < perSpeaker) {
        const taken = new Set(memories.map((m) => m.memory.id));
        const recent = topK(
          this.memories.filter((m): m is Memory => m !== undefined && (m.speaker ?? '') === speaker && !taken.has(m.id)),
          (m) => m.updatedAt,
          perSpeaker - memories.length,
        );
        for (const { item } of recent) memories.push({ memory: item, score: 0, via: 'recent' });
      }
      return { speaker, memories };
    });
  }
}
