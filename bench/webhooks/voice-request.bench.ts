/**
 * webhooks/voice-request: one signed voice-URL POST (the parameters of an
 * inbound call, X-Twilio-Signature, form body) and its TwiML answer, one
 * request in flight, against a node:http app in a worker thread
 * (app-server.ts). The daemon makes one of these per call.
 *
 * - `Patchbay webhook client (http1 pool)`: runtime/webhooks, what the daemon uses;
 * - `node:http keep-alive Agent`: the same request through node:http (what
 *   the client used before its own HTTP/1.1 pool);
 * - `fetch (undici)`: the same through global fetch (the first version).
 *
 * Wall time per request includes the app's share; the ratio column is what
 * matters. The signature is computed by every task so that they do the same work.
 */
import { Agent, request as httpRequest } from 'node:http';
import { createWebhookClient, type WebhookClient } from '../../runtime/webhooks/client.js';
import { formBody, formEncode, type WebhookParams } from '../../runtime/webhooks/params.js';
import { twilioSignature } from '../../runtime/webhooks/sign.js';
import type { BenchSuite } from '../lib/types.js';
import { startBenchWorker, type BenchWorker } from '../lib/worker.js';

const ACCOUNT = `AC${'5eed'.repeat(8)}`;
const TOKEN = 'bench-token-0123456789abcdef';

/** The parameters of an inbound call's voice request (Twilio's request parameters, https://www.twilio.com/docs/voice/twiml), as the daemon sends them. */
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

export function register(): BenchSuite[] {
  let worker: BenchWorker<number> | undefined;
  let agent: Agent | undefined;
  let client: WebhookClient | undefined;
  const suite: BenchSuite = {
    name: 'webhooks/voice-request',
    baselineLabel: 'Patchbay webhook client',
    tasks: [],
    async setup() {
      worker = await startBenchWorker<number>(new URL('./app-server.js', import.meta.url));
      const port = worker.info;
      const url = `http://127.0.0.1:${port}/voice`;
      client = createWebhookClient({ accountSid: ACCOUNT, authToken: TOKEN, timeoutMs: 5000 });
      agent = new Agent({ keepAlive: true, maxSockets: 256 });
      const check = await client.request({ url, params: PARAMS });
      if (!check.ok || !check.value.body.includes('<Dial')) throw new Error(`unexpected answer: ${JSON.stringify(check)}`);
      const viaNodeHttp = (): Promise<string> => new Promise((resolve, reject) => {
        const body = formBody(PARAMS);
        const req = httpRequest(url, { method: 'POST', agent, headers: { ...headersFor(url), 'Content-Length': body.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
      suite.tasks = [
        {
          name: 'Patchbay webhook client (http1 pool)',
          fn: async () => {
            const r = await client!.request({ url, params: PARAMS });
            if (!r.ok) throw r.error;
          },
          reference: true,
        },
        { name: 'node:http keep-alive Agent', fn: viaNodeHttp },
        {
          name: 'fetch (undici)',
          fn: async () => {
            const res = await fetch(url, { method: 'POST', headers: headersFor(url), body: formEncode(PARAMS) });
            await res.text();
          },
        },
      ];
    },
    async teardown() {
      agent?.destroy();
      await worker?.stop();
      worker = undefined;
    },
  };
  return [suite];
}
