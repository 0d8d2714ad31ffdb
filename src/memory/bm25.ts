// BM25 over memory texts, kept up to date one document at a time (documents live in numbered slots
// shared with the vector index), so retrieval never rebuilds anything per query. Words are Porter-stemmed
// in documents and queries alike, so "peanut" finds "peanuts" and "hiking" finds "hiked".
import { porterStem } from './porter';

const STOPWORDS = new Set(
  'a an and are as at be been but by did do does for from had has have he her hers him his i if in into is it its me my of on or our she so than that the their them then there these they this to was we were what when where which who whom why will with you your'.split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;

// Stemming is the costly part of indexing a large bank, and words repeat: remember recent stems.
const stems = new Map<string, string>();
function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    if (stems.size >= 50_000) stems.clear();
    stems.set(word, (stemmed = porterStem(word)));
  }
  return stemmed;
}

/** Lower-cased, stemmed words and numbers, stopwords dropped (`stemming` false: the words as they are). */
export function tokenize(text: string, stemming = true): string[] {
  const words = (text.toLowerCase().match(WORD) ?? []).filter((word) => !STOPWORDS.has(word));
  return stemming ? words.map(stem) : words;
}

/**
 * Where `text` has a word that a search for `query` matches (the same stem): [start, end) character
 * ranges in order, for highlighting what was found.
 */
export function matchRanges(text: string, query: string): [number, number][] {
  const wanted = new Set(tokenize(query));
  if (wanted.size === 0) return [];
  const ranges: [number, number][] = [];
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (!STOPWORDS.has(word) && wanted.has(stem(word))) ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

interface Postings {
  slots: number[];
  counts: number[];
}

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly documents: ({ terms: string[]; counts: number[]; length: number } | undefined)[] = [];
  private documentCount = 0;
  private totalLength = 0;
  // Scratch space for search, sized to the slot count: per-slot score accumulators, document lengths
  // (a typed copy for the hot loop), and the touched slots with their final scores.
  private scores = new Float32Array(0);
  private lengths = new Float32Array(0);
  private touched = new Int32Array(0);
  private touchedScores = new Float32Array(0);

  /** `stemming` off is the plain-word index (benchmarks compare the two). */
  constructor(
    private readonly k1 = 1.2,
    private readonly b = 0.75,
    private readonly stemming = true,
  ) {}

  get size(): number {
    return this.documentCount;
  }

  set(slot: number, text: string): void {
    this.remove(slot);
    const counts = new Map<string, number>();
    const words = tokenize(text, this.stemming);
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    const document = { terms: [...counts.keys()], counts: [...counts.values()], length: words.length };
    this.documents[slot] = document;
    if (slot < this.lengths.length) this.lengths[slot] = document.length;
    this.documentCount++;
    this.totalLength += document.length;
    document.terms.forEach((term, i) => {
      let list = this.postings.get(term);
      if (!list) this.postings.set(term, (list = { slots: [], counts: [] }));
      list.slots.push(slot);
      list.counts.push(document.counts[i]!);
    });
  }

  remove(slot: number): void {
    const document = this.documents[slot];
    if (!document) return;
    for (const term of document.terms) {
      const list = this.postings.get(term)!;
      const at = list.slots.indexOf(slot);
      // Order inside a posting list does not matter: move the last entry into the hole.
      list.slots[at] = list.slots[list.slots.length - 1]!;
      list.counts[at] = list.counts[list.counts.length - 1]!;
      list.slots.pop();
      list.counts.pop();
      if (list.slots.length === 0) this.postings.delete(term);
    }
    this.documents[slot] = undefined;
    this.documentCount--;
    this.totalLength -= document.length;
  }

  /** Scores every document sharing a term with the query: `count` slots and their scores (valid until the next search). */
  search(query: string): { slots: Int32Array; scores: Float32Array; count: number } {
    const terms = [...new Set(tokenize(query, this.stemming))];
    const capacity = this.documents.length;
    if (this.scores.length < capacity) {
      this.scores = new Float32Array(Math.max(1024, capacity * 2));
      this.lengths = new Float32Array(this.scores.length);
      this.documents.forEach((document, slot) => (this.lengths[slot] = document?.length ?? 0));
      this.touched = new Int32Array(this.scores.length);
      this.touchedScores = new Float32Array(this.scores.length);
    }
    const { scores, lengths, touched, touchedScores } = this;
    let count = 0;
    if (terms.length === 0 || this.documentCount === 0) return { slots: touched, scores: touchedScores, count };
    // Terms in more than a quarter of a large bank carry almost no information (idf < 1.3) but cost a pass
    // over most documents: treat them as stopwords unless the query has nothing else.
    const informative = terms.filter((term) => this.documentCount < 1000 || (this.postings.get(term)?.slots.length ?? 0) <= this.documentCount / 4);
    const used = informative.length > 0 ? informative : terms;
    const averageLength = this.totalLength / this.documentCount || 1;
    const lengthWeight = (this.k1 * this.b) / averageLength;
    const base = this.k1 * (1 - this.b);
    for (const term of used) {
      const list = this.postings.get(term);
      if (!list) continue;
      const df = list.slots.length;
      const idf = Math.log(1 + (this.documentCount - df + 0.5) / (df + 0.5));
      for (let i = 0; i < df; i++) {
        const slot = list.slots[i]!;
        const tf = list.counts[i]!;
        if (scores[slot] === 0) touched[count++] = slot;
        scores[slot]! += (idf * tf * (this.k1 + 1)) / (tf + base + lengthWeight * lengths[slot]!);
      }
    }
    for (let i = 0; i < count; i++) {
      const slot = touched[i]!;
      touchedScores[i] = scores[slot]!;
      scores[slot] = 0;
    }
    return { slots: touched, scores: touchedScores, count };
  }
}
