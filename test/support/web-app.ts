/**
 * The customer's web application of the call tests (unit, integration and
 * e2e alike): a real HTTP server on loopback that answers each path with
 * TwiML (or an error, or after a delay) and records every request it
 * receives, with its signature checked by the official `twilio` package's
 * validateRequest.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { WAIT_TIMEOUT_MS } from './wait.js';

/** One request the app received. */
export interface AppRequest {
  method: string;
  path: string;
  /** The full URL as the daemon requested it. */
  url: string;
  params: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** validateRequest(authToken, X-Twilio-Signature, url, params) */
  signatureValid: boolean;
  at: number;
}

/** How the app answers a path. */
export type Reply = string | { status?: number; body?: string; contentType?: string; delayMs?: number };

/** A reply, or a function of the request that gives one. */
export type Route = Reply | ((req: AppRequest) => Reply);

/** A running app. */
export interface WebApp {
  readonly base: string;
  readonly requests: AppRequest[];
  /** Set or replace what a path answers (a function sees the request). */
  route(path: string, reply: Route): void;
  /** Requests to `path`, in arrival order. */
  to(path: string): AppRequest[];
  /** Wait until `path` got `count` requests (bounded). */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<AppRequest[]>;
  close(): Promise<void>;
}

/** Options of {@link startWebApp}. */
export interface WebAppOptions {
  /** What a path without a route answers (default: 404 "no route"). */
  readonly unrouted?: Reply;
}

/**
 * Start the app on 127.0.0.1 (ephemeral port).
 * @param authToken - the token its signature check uses
 * @param routes - path → reply to start with (more with `route`)
 */
export async function startWebApp(authToken: string, routes: Record<string, Route> = {}, options: WebAppOptions = {}): Promise<WebApp> {
  const table = new Map<string, Route>(Object.entries(routes));
  const requests: AppRequest[] = [];
  let server: Server | undefined = undefined;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const port = (server!.address() as AddressInfo).port;
      const url = `http://127.0.0.1:${port}${req.url ?? '/'}`;
      const parsed = new URL(url);
      const body = Buffer.concat(chunks).toString('utf8');
      const params: Record<string, string> = {};
      if (req.method === 'POST') for (const [k, v] of new URLSearchParams(body)) params[k] = v;
      const query: Record<string, string> = {};
      for (const [k, v] of parsed.searchParams) query[k] = v;
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      const record: AppRequest = {
        method: req.method ?? '', path: parsed.pathname, url,
        params: req.method === 'POST' ? params : query, headers: req.headers,
        signatureValid: twilio.validateRequest(authToken, signature, url, req.method === 'POST' ? params : {}),
        at: Date.now(),
      };
      requests.push(record);
      const handler = table.get(parsed.pathname) ?? options.unrouted;
      const reply = typeof handler === 'function' ? handler(record) : handler;
      const r = typeof reply === 'string' ? { body: reply } : reply ?? { status: 404, body: 'no route' };
      const send = (): void => {
        res.writeHead(r.status ?? 200, { 'Content-Type': r.contentType ?? 'text/xml' });
        res.end(r.body ?? '');
      };
      if (r.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app: WebApp = {
    base,
    requests,
    route: (path, reply) => { table.set(path, reply); },
    to: (path) => requests.filter((r) => r.path === path),
    async waitFor(path, count, timeoutMs = WAIT_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (app.to(path).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      return app.to(path);
    },
    close: () => new Promise<void>((resolve) => {
      server!.closeAllConnections();
      server!.close(() => resolve());
    }),
  };
  return app;
}
