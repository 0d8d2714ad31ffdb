// What can go wrong talking to a model server, as one error type whose message names the endpoint, the
// problem and what to do; `retryable` says whether trying again may help (busy, down, cut off).

export type EndpointProblem =
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'rate-limit'
  | 'server'
  | 'bad-request'
  | 'not-found'
  | 'malformed'
  | 'truncated'
  | 'wrong-model'
  | 'diverged';

const RETRYABLE: ReadonlySet<EndpointProblem> = new Set(['unreachable', 'timeout', 'rate-limit', 'server', 'malformed', 'truncated']);

export class EndpointError extends Error {
  override name = 'EndpointError';
  readonly retryable: boolean;
  constructor(
    readonly endpoint: string,
    readonly problem: EndpointProblem,
    detail: string,
    readonly status?: number,
    /** Seconds the server asked us to wait (Retry-After), when it said. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`model server ${endpoint}: ${detail}`);
    this.retryable = RETRYABLE.has(problem);
  }
}

/** The URL as shown in messages: no user name or password, no query string. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

/** The server's own error message from an OpenAI-shaped body (`{error: {message}}`), else the raw text, shortened. */
export function serverMessage(body: string): string {
  let message = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const e = parsed.error;
    const candidate = typeof e === 'string' ? e : e?.message ?? parsed.message ?? parsed.detail;
    if (typeof candidate === 'string') message = candidate;
  } catch {
    // not JSON: the text itself
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** The error for an HTTP status that is not a success, with advice for each kind. */
export function statusError(endpoint: string, status: number, body: string, retryAfter: number | undefined, keyVariable: string | undefined): EndpointError {
  const said = serverMessage(body);
  const server = said ? ` (the server said: ${said})` : '';
  if (status === 401 || status === 403) {
    const advice = keyVariable ? `check the API key in $${keyVariable}` : 'this server wants an API key: set one in an environment variable and name it with --endpoint-key-env';
    return new EndpointError(endpoint, 'auth', `HTTP ${status}, not authorised${server}; ${advice}`, status);
  }
  if (status === 429) return new EndpointError(endpoint, 'rate-limit', `HTTP 429, too many requests${server}; lower --endpoint-concurrency or wait and rerun (progress is kept)`, status, retryAfter);
  if (status === 404) return new EndpointError(endpoint, 'not-found', `HTTP 404${server}; check the URL (it usually ends in /v1) and the model name`, status);
  if (status >= 500) return new EndpointError(endpoint, 'server', `HTTP ${status}, the server failed${server}; check its log, then rerun (progress is kept)`, status, retryAfter);
  return new EndpointError(endpoint, 'bad-request', `HTTP ${status}, request refused${server}`, status);
}
