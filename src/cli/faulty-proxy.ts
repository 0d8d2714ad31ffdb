// Tests only: an HTTP proxy on 127.0.0.1 in front of a server on 127.0.0.1 that injects the faults a real
// model server shows (slow, malformed JSON, a cut-off reply, 401/429/500, another model's name) on the
// requests a plan picks. Bounded: it refuses to proxy anywhere but loopback, serves at most
// `maxRequests` requests and closes itself after `lifetimeMs`, so a test that forgets it cannot leak it.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  /** Wait before passing the request on. */
  | { kind: 'slow'; ms: number }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** Pass on the reply's headers and first `bytes` bytes of body, then cut the connection. */
  | { kind: 'truncate'; bytes: number }
  /** Answer this status without asking the server. */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Pass on the reply with every "model" field renamed. */
  | { kind: 'rename-model'; to: string };

export interface SeenRequest {
  path: string;
  authorization: string | undefined;
  fault: Fault['kind'];
}

export interface FaultyProxy {
  url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function startFaultyProxy(target: string, plan: (index: number, path: string) => Fault, { maxRequests = 200, lifetimeMs = 120_000 } = {}): Promise<FaultyProxy> {
  const to = new URL(target);
  if (!LOOPBACK.has(to.hostname)) throw new Error(`faulty proxy: only loopback targets, not ${to.hostname}`);
  const seen: SeenRequest[] = [];
  let server: Server;

  const forward = (req: IncomingMessage, body: Buffer, onReply: (reply: IncomingMessage) => void, res: ServerResponse) => {
    const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, onReply);
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const fault = plan(seen.length, path);
    seen.push({ path, authorization: req.headers.authorization, fault: fault.kind });
    if (seen.length >= maxRequests) setImmediate(() => void close());
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
        return void res.end(fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'injected' } }));
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('<html>502 Bad Gateway</html>');
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return forward(req, body, (reply) => (res.writeHead(reply.statusCode ?? 502, reply.headers), reply.pipe(res)), res);
      case 'pass':
        return forward(req, body, (reply) => (res.writeHead(reply.statusCode ?? 502, reply.headers), reply.pipe(res)), res);
      case 'truncate':
        return forward(
          req,
          body,
          (reply) => {
            res.writeHead(reply.statusCode ?? 502, reply.headers);
            let sent = 0;
            reply.on('data', (chunk: Buffer) => {
              if (sent >= fault.bytes) return;
              const part = chunk.subarray(0, fault.bytes - sent);
              sent += part.length;
              res.write(part);
              if (sent >= fault.bytes) {
                reply.destroy();
                res.socket?.destroy();
              }
            });
            reply.on('end', () => res.socket?.destroy());
          },
          res,
        );
      case 'rename-model':
        return forward(
          req,
          body,
          (reply) => {
            const parts: Buffer[] = [];
            reply.on('data', (chunk: Buffer) => parts.push(chunk));
            reply.on('end', () => {
              const text = Buffer.concat(parts).toString('utf8').replace(/"model":"[^"]*"/g, `"model":${JSON.stringify(fault.to)}`);
              const headers = { ...reply.headers };
              delete headers['content-length'];
              res.writeHead(reply.statusCode ?? 502, headers);
              res.end(text);
            });
          },
          res,
        );
    }
  };

  server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const lifetime = setTimeout(() => void close(), lifetimeMs);
  lifetime.unref();
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    clearTimeout(lifetime);
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close };
}

/** A loopback port nothing listens on (a server's, just closed): a server that is down. */
export async function closedLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
