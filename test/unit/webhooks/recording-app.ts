/**
 * The customer web app of the webhook client tests: a real node:http server
 * on loopback that records every request (method, URL, headers, body) and
 * answers through a handler the test sets; and the checks a customer app
 * makes, with the official twilio package.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { expect } from 'vitest';

/** One request as the app received it. */
export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Answers a recorded request. */
export type Handler = (req: Recorded, res: ServerResponse) => void;

/** A running recording app. */
export interface RecordingApp {
  /** `http://127.0.0.1:PORT` */
  readonly base: string;
  /** The node:http server (tests count its connections). */
  readonly server: Server;
  /** Every request so far, oldest first (tests empty it between cases). */
  readonly requests: Recorded[];
  /** Answers the next requests (default: 200 with a small TwiML document). */
  handler: Handler;
  close(): Promise<void>;
}

/** A 200 with `<Response><Say>hi</Say></Response>`. */
export function twiml(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/xml' });
  res.end('<Response><Say>hi</Say></Response>');
}

/** Start the app on an ephemeral loopback port. */
export async function startRecordingApp(): Promise<RecordingApp> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      app.handler(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const app: RecordingApp = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests,
    handler: (_req, res) => twiml(res),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return app;
}

/** What an Express app with `urlencoded({extended:false})` hands to validateRequest. */
export function formParams(body: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = params[name];
    if (previous === undefined) params[name] = value;
    else params[name] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return params;
}

/** Check one recorded request's signature with the twilio package, as a customer app would. */
export function expectValidSignature(req: Recorded, origin: string, token: string): void {
  const url = origin + req.url;
  const params = req.method === 'POST' ? formParams(req.body) : {};
  const signature = req.headers['x-twilio-signature'];
  expect(typeof signature).toBe('string');
  expect(twilio.validateRequest(token, signature as string, url, params)).toBe(true);
  expect(signature).toBe(twilio.getExpectedTwilioSignature(token, url, params));
}
