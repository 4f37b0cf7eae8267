/**
 * webhooks/voice-request: one signed voice-URL POST (the parameters of an
 * inbound call, X-Twilio-Signature, form body) and its TwiML answer, one
 * request in flight, against a node:http app in a worker thread
 * (app-server.ts). The daemon makes one of these per call. The clients
 * compared are those of clients.ts: Patchbay's (the reference), a node:http
 * keep-alive Agent, global fetch and an undici Pool.
 *
 * Wall time per request includes the app's share; the ratio column is what
 * matters. CPU per request: cpu-per-request.ts.
 */
import type { BenchSuite } from '../lib/types.js';
import { startBenchWorker, type BenchWorker } from '../lib/worker.js';
import { webhookClients, type BenchClient } from './clients.js';

export function register(): BenchSuite[] {
  let worker: BenchWorker<number> | undefined;
  let clients: BenchClient[] = [];
  const suite: BenchSuite = {
    name: 'webhooks/voice-request',
    baselineLabel: 'Patchbay webhook client',
    tasks: [],
    async setup() {
      worker = await startBenchWorker<number>(new URL('./app-server.js', import.meta.url));
      clients = webhookClients(worker.info);
      for (const c of clients) {
        const body = await c.request();
        if (!body.includes('<Dial')) throw new Error(`${c.name}: unexpected answer: ${body}`);
      }
      suite.tasks = clients.map((c, i) => ({ name: c.name, fn: () => c.request(), reference: i === 0 }));
    },
    async teardown() {
      for (const c of clients) await c.close();
      await worker?.stop();
      worker = undefined;
    },
  };
  return [suite];
}
