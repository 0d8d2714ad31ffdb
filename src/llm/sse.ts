// Server-sent events as OpenAI-compatible servers stream them: `data: <json>` events separated by a
// blank line, ended by `data: [DONE]`. Only `data` fields matter here (comments and other fields are
// skipped); a stream that ends without [DONE] is reported as such, so a cut connection is never taken
// for a finished reply.

export type SseItem = { done: true } | { done: false; data: string };

/** Each event's data, in order; `{done: true}` for [DONE]. Ends when the body ends. */
export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseItem> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // Events end at a blank line (\n\n, \r\n\r\n or \r\r); the last, unfinished one stays buffered.
      const events = buffer.split(/\r\n\r\n|\n\n|\r\r/);
      buffer = done ? '' : events.pop()!;
      for (const event of events) {
        const data = event
          .split(/\r\n|\n|\r/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(line[5] === ' ' ? 6 : 5))
          .join('\n');
        if (!data) continue;
        if (data.trim() === '[DONE]') yield { done: true };
        else yield { done: false, data };
      }
      if (done) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/** One server-sent event carrying `data` (JSON-encoded unless it is the [DONE] marker). */
export function sseEvent(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
