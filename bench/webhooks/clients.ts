/**
 * The clients the webhooks benchmarks compare, each making the same signed
 * voice-URL POST (an inbound call's parameters, X-Twilio-Signature, form
 * body) and reading the TwiML answer:
 *
 * - `Patchbay webhook client (http1 pool)`: runtime/webhooks in this thread,
 *   the daemon's client (the daemon runs it in its webhook thread);
 * - `node:http keep-alive Agent`: what the client used before its own pool;
 * - `fetch (undici)`: global fetch (the first version);
 * - `undici Pool`: an undici 7 `Pool` to the app's origin (keep-alive, no
 *   pipelining), what the client would switch to.
 *
 * The signature is computed by every client so that they do the same work.
 */
import { Agent, request as httpRequest } from 'node:http';
import { Pool } from 'undici';
import { createWebhookClient } from '../../runtime/webhooks/client.js';
import { formBody, formEncode, type WebhookParams } from '../../runtime/webhooks/params.js';
import { twilioSignature } from '../../runtime/webhooks/sign.js';

const ACCOUNT = `AC${'5eed'.repeat(8)}`;
const TOKEN = 'bench-token-0123456789abcdef';

/** The parameters of an inbound call's voice request (https://www.twilio.com/docs/voice/twiml#request-parameters), as the daemon sends them. */
const PARAMS: WebhookParams = {
  AccountSid: ACCOUNT, CallSid: `CA${'0123456789abcdef'.repeat(2)}`, From: 'sip:alice@127.0.0.1:5060', To: 'sip:callee@127.0.0.1:5060',
  Caller: 'sip:alice@127.0.0.1:5060', Called: 'sip:callee@127.0.0.1:5060', CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01',
  SipCallId: '1-12345@127.0.0.1', SipDomain: '127.0.0.1', SipDomainSid: `SD${'0'.repeat(32)}`, SipSourceIp: '127.0.0.1',
};

function headersFor(url: string): Record<string, string> {
  return {
    'X-Twilio-Signature': twilioSignature(TOKEN, url, PARAMS, 'POST'),
    'User-Agent': 'TwilioProxy/1.1 Patchbay/0.1',
    Accept: '*/*',
    'Content-Type': 'application/x-www-form-urlencoded',
  };
}

/** One client: a request that resolves with the answer's body, and how to close it. */
export interface BenchClient {
  readonly name: string;
  request(): Promise<string>;
  close(): Promise<void>;
}

/** @return the four clients, aimed at `http://127.0.0.1:<port>/voice`; the first is Patchbay's. */
export function webhookClients(port: number): BenchClient[] {
  const url = `http://127.0.0.1:${port}/voice`;
  const client = createWebhookClient({ accountSid: ACCOUNT, authToken: TOKEN, timeoutMs: 5000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 256 });
  return [
    {
      name: 'Patchbay webhook client (http1 pool)',
      async request() {
        const r = await client.request({ url, params: PARAMS });
        if (!r.ok) throw r.error;
        return r.value.body;
      },
      close: () => client.close(),
    },
    {
      name: 'node:http keep-alive Agent',
      request: () => new Promise((resolve, reject) => {
        const body = formBody(PARAMS);
        const req = httpRequest(url, { method: 'POST', agent, headers: { ...headersFor(url), 'Content-Length': body.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      }),
      close() { agent.destroy(); return Promise.resolve(); },
    },
    {
      name: 'fetch (undici)',
      async request() {
        const res = await fetch(url, { method: 'POST', headers: headersFor(url), body: formEncode(PARAMS) });
        return res.text();
      },
      close: () => Promise.resolve(),
    },
    {
      name: 'undici Pool',
      async request() {
        const res = await pool.request({ path: '/voice', method: 'POST', headers: headersFor(url), body: formBody(PARAMS) });
        return res.body.text();
      },
      close: () => pool.close(),
    },
  ];
}
