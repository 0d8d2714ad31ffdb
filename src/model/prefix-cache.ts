// Idle KV caches kept after their sessions end, with the tokens they hold, so that a request whose
// prompt starts like an earlier one (the agents' fixed instructions, a chat's history) prefills only
// what differs. Entries are matched by owner (the adapter a cache was computed with: K/V depend on
// it) and by room; the one sharing the longest prefix wins, least recently kept ones are evicted.
// A cache shares too little to be worth taking when below `minShared` tokens (every chat prompt shares
// its template's first few): a fresh cache then leaves the others' prefixes intact.

export interface CachedPrefix<Owner> {
  /** Whose weights computed the K/V (null: the base model). */
  owner: Owner | null;
  /** The tokens whose K/V the cache holds, in order. */
  tokens: number[];
  /** Positions the cache can hold. */
  capacity: number;
  /** Frees the cache's GPU memory. */
  free(): void;
}

/** Length of the common prefix of two token sequences. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class PrefixCache<Owner, Entry extends CachedPrefix<Owner> = CachedPrefix<Owner>> {
  /** Least recently kept first. */
  private idle: Entry[] = [];

  /** `size`: how many idle caches to keep (0 keeps none). */
  constructor(
    readonly size: number,
    readonly minShared = 16,
  ) {}

  get entries(): readonly Entry[] {
    return this.idle;
  }

  /**
   * Removes and returns the idle cache of `owner` with room for `need` positions that shares the
   * longest prefix with `tokens` (at least `minShared` tokens, or all of `tokens`), or undefined.
   */
  take(owner: Owner | null, tokens: readonly number[], need: number): { entry: Entry; shared: number } | undefined {
    let best: { entry: Entry; shared: number } | undefined;
    for (const entry of this.idle) {
      if (entry.owner !== owner || entry.capacity < need) continue;
      const shared = commonPrefixLength(entry.tokens, tokens);
      if (shared >= Math.min(this.minShared, tokens.length) && (!best || shared > best.shared)) best = { entry, shared };
    }
    if (best) this.idle.splice(this.idle.indexOf(best.entry), 1);
    return best;
  }

  /** Keeps an idle cache (freeing the least recently kept beyond `size`). */
  keep(entry: Entry): void {
    if (this.size <= 0) return entry.free();
    this.idle.push(entry);
    while (this.idle.length > this.size) this.idle.shift()!.free();
  }

  /** Frees the idle caches that match (all by default). */
  drop(match: (entry: Entry) => boolean = () => true): void {
    const [gone, kept] = [this.idle.filter(match), this.idle.filter((e) => !match(e))];
    this.idle = kept;
    for (const entry of gone) entry.free();
  }
}
