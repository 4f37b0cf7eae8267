/**
 * Worker thread of the api benchmark: the HTTP server with a store of
 * completed calls, so the measured client and the server do not share one
 * event loop. Posts `{port, sid, accountSid, authToken}` once listening and
 * closes the server on any message.
 */
import { parentPort } from 'node:worker_threads';
import { CallStore } from '../../runtime/calls/store.js';
import type { CallControl } from '../../runtime/calls/control.js';
import type { CallRecord } from '../../runtime/calls/record.js';
import { newSid } from '../../runtime/calls/sid.js';
import { startHttp } from '../../runtime/http/server.js';

const ACCOUNT_SID = `AC${'be4c'.repeat(8)}`;
const AUTH_TOKEN = 'bench-token';
/** Calls in the store: the fetch is a map lookup, so the size matters little. */
const CALLS = 10_000;

const refused = { ok: false as const, error: { code: 20001, message: 'not in the benchmark', status: 501 } };
const control: CallControl = { originate: () => Promise.resolve(refused), redirect: () => refused, end: () => refused };

const store = new CallStore({ keepCompleted: CALLS });
const records: CallRecord[] = [];
const start = Date.UTC(2025, 0, 1);
for (let i = 0; i < CALLS; i++) {
  const created = start + i * 1000;
  records.push({
    sid: newSid('CA'), accountSid: ACCOUNT_SID, direction: 'outbound-api', from: 'patchbay-bench', to: `sip:user${i}@192.0.2.10:5060`,
    status: 'completed', dateCreated: created, dateUpdated: created + 60_000, startTime: created + 3000, endTime: created + 60_000, duration: 57,
  });
}
store.restore(records);

const server = await startHttp({
  host: '127.0.0.1', port: 0, store, control, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN,
  stats: () => ({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0, callsTotal: 0, draining: false }),
});
parentPort!.postMessage({ port: server.port, sid: records[CALLS >> 1]!.sid, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
parentPort!.once('message', () => {
  server.close();
  parentPort!.close();
});
