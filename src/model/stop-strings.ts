// Stop strings over streamed text. Text that might be the start of a stop string is held back until it
// is known not to be, so a streaming consumer never sees text that later turns out to belong to a stop
// string; the stop string itself and everything after it are dropped (OpenAI's semantics).

export interface StopResult {
  /** Text now safe to show. */
  emit: string;
  /** A stop string was found: generation should end (emit is the last text). */
  stopped: boolean;
}

export class StopMatcher {
  private readonly stops: string[];
  private held = '';
  private done = false;

  constructor(stops: readonly string[] = []) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** Feeds newly decoded text. */
  push(delta: string): StopResult {
    if (this.done) return { emit: '', stopped: true };
    const text = this.held + delta;
    let cut = -1;
    for (const s of this.stops) {
      const at = text.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.done = true;
      this.held = '';
      return { emit: text.slice(0, cut), stopped: true };
    }
    const keep = this.heldLength(text);
    this.held = text.slice(text.length - keep);
    return { emit: text.slice(0, text.length - keep), stopped: false };
  }

  /** The text still held back (call at the end of generation: it did not become a stop string). */
  flush(): string {
    const rest = this.done ? '' : this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest suffix of text that is a proper prefix of some stop string. */
  private heldLength(text: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
