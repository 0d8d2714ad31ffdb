// The exact bytes each token id stands for. Generation decodes its own output from these bytes (so a
// UTF-8 character split across byte-level BPE tokens decodes correctly, with TextDecoder streaming), and
// constrained decoding checks candidate tokens byte by byte. Built lazily, cached once per tokenizer.

import { byteToUnicode } from './tiny-tokenizer';
import type { ModelTokenizer } from './tokenizer';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** GPT-2's byte-level alphabet inverted: printable character → the byte it stands for. */
const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(byteToUnicode().map((ch, byte) => [ch, byte]));

export class TokenBytes {
  private readonly cache: Array<Uint8Array | undefined>;
  private readonly specialFlags: Array<boolean | undefined>;
  private readonly byteLevel: boolean;

  /** @param size ids 0..size-1 (the model's vocab_size, which may exceed the tokenizer's: those ids are empty). */
  constructor(
    private readonly tokenizer: ModelTokenizer,
    readonly size: number = tokenizer.size,
  ) {
    this.cache = new Array<Uint8Array | undefined>(size);
    this.specialFlags = new Array<boolean | undefined>(size);
    const space = tokenizer.tokenId('Ġ');
    this.byteLevel = space !== undefined && tokenizer.decode([space]) === ' ';
  }

  /**
   * The token's bytes as it appears in generated text: empty for special tokens (<|im_end|>...) and for
   * ids the tokenizer does not know (padding rows of the vocabulary).
   */
  bytes(id: number): Uint8Array {
    if (id < 0 || id >= this.size) return EMPTY;
    let b = this.cache[id];
    if (b === undefined) {
      b = this.isSpecial(id) ? EMPTY : this.compute(id);
      this.cache[id] = b;
    }
    return b;
  }

  /** Control tokens (added tokens that decoding with skip_special_tokens drops) and unknown ids. */
  isSpecial(id: number): boolean {
    let flag = this.specialFlags[id];
    if (flag === undefined) {
      const s = this.tokenizer.tokenString(id);
      // Only tokens shaped like <...> can be special: checking them alone keeps this cheap on 150k vocabularies.
      flag = s === undefined || (s.length > 2 && s.startsWith('<') && s.endsWith('>') && this.tokenizer.decode([id], { skipSpecialTokens: true }) === '' && this.tokenizer.decode([id]) !== '');
      this.specialFlags[id] = flag;
    }
    return flag;
  }

  private compute(id: number): Uint8Array {
    const s = this.tokenizer.tokenString(id) ?? '';
    if (this.byteLevel) {
      const out = new Uint8Array(s.length);
      let n = 0;
      for (const ch of s) {
        const byte = UNICODE_TO_BYTE.get(ch);
        if (byte === undefined) return encoder.encode(this.tokenizer.decode([id]));
        out[n++] = byte;
      }
      return out.subarray(0, n);
    }
    const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(s); // SentencePiece byte fallback
    if (fallback) return Uint8Array.of(parseInt(fallback[1]!, 16));
    return encoder.encode(this.tokenizer.decode([id]));
  }
}

const tables = new WeakMap<ModelTokenizer, TokenBytes>();

/** The shared table of a tokenizer (built once; later calls with a larger size rebuild it). */
export function tokenBytesOf(tokenizer: ModelTokenizer, size: number = tokenizer.size): TokenBytes {
  let table = tables.get(tokenizer);
  if (!table || table.size < size) {
    table = new TokenBytes(tokenizer, Math.max(size, tokenizer.size));
    tables.set(tokenizer, table);
  }
  return table;
}
