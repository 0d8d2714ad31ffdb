// A small byte-level BPE tokenizer (GPT-2 / Qwen2 / Llama-3 style) built from scratch for tiny test
// models: 256 byte tokens, merges learned from a built-in English text, then special tokens. The result
// is a Hugging Face `tokenizer.json` object that @huggingface/tokenizers (and the Rust crate) load.

/** GPT-2's reversible byte → printable character map, so that every byte string is a valid token string. */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return table;
}

// Qwen2's pre-tokenizer pattern (Llama-3 differs only in grouping digits by 3): contractions, words with
// one leading non-letter, single digits, punctuation runs, newlines, spaces.
export const PRETOKENIZE_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// The same split in JavaScript syntax (no inline case-insensitive group), only for learning merges.
const TRAIN_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export const TRAINING_TEXT = `The user said that they moved to Berlin last spring and started a new job as a nurse.
They have a dog named Max, and they like to walk by the river in the morning before work.
Their sister lives in London; she is a teacher and has two children. They will visit her in June.
What is the name of the dog? The answer is Max. Where does the user live now? In Berlin.
I remember that you told me about your trip to the mountains with your friends last year.
We talked about books, music and the weather. It was a good day, and the food was great.
Memory helps an assistant answer questions about the past: what happened, when, and with whom.
ADD a new fact when it is not known. UPDATE a fact when there is more detail. DELETE a fact that
is no longer true. NONE when nothing changes. The manager reads the memories and the new turn.
Numbers like 2024, 15 and 3.5 appear in dates and prices; names like Anna, Tom and Caroline too.
She said: "I can't wait to see you!" He said he'd call back later, but they're still waiting.
`;

export interface TinyTokenizerOptions {
  /** Total vocabulary size wanted (bytes + merges + specials); fewer merges if the text runs out. */
  vocabSize: number;
  specialTokens: string[];
  /** Token added before every sequence when encoding with special tokens (Llama-3's BOS); none for Qwen2. */
  bosToken?: string;
  /** Text to learn merges from after the built-in one (a task's prompts, for a larger vocabulary). */
  extraText?: string;
}

export interface TinyTokenizer {
  /** The tokenizer.json object. */
  json: Record<string, unknown>;
  /** Number of ids used (bytes + merges + specials). */
  size: number;
  specialIds: Record<string, number>;
}

/** Learns BPE merges on byte-level words: repeatedly merge the most frequent adjacent pair. */
function learnMerges(text: string, count: number, byteChars: string[]): Array<[string, string]> {
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const match of text.matchAll(TRAIN_SPLIT)) {
    const word = Array.from(encoder.encode(match[0]), (b) => byteChars[b]!).join('');
    wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([w, n]) => ({ symbols: Array.from(w), n }));
  const merges: Array<[string, string]> = [];
  while (merges.length < count) {
    const pairs = new Map<string, number>();
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, n] of pairs) {
      // Most frequent first; ties by string order, so the result never depends on Map iteration order.
      if (n > bestCount || (n === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = n;
      }
    }
    if (best === null) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    for (const word of words) {
      const s = word.symbols;
      const merged: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(s[i]!);
      }
      word.symbols = merged;
    }
  }
  return merges;
}

export function buildTinyTokenizer(options: TinyTokenizerOptions): TinyTokenizer {
  const byteChars = byteToUnicode();
  const vocab: Record<string, number> = {};
  byteChars.forEach((ch, b) => (vocab[ch] = b));
  const merges = learnMerges(TRAINING_TEXT + (options.extraText ?? ''), options.vocabSize - 256 - options.specialTokens.length, byteChars);
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  let next = Object.keys(vocab).length;
  const specialIds: Record<string, number> = {};
  const addedTokens = options.specialTokens.map((content) => {
    specialIds[content] = next;
    return { id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const bos = options.bosToken;
  const postProcessor =
    bos === undefined
      ? byteLevel
      : {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [bos]: { id: bos, ids: [specialIds[bos]], tokens: [bos] } },
        };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: PRETOKENIZE_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: postProcessor,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  return { json, size: next, specialIds };
}
