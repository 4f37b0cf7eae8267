/**
 * Test fixtures of the HTTP layer: a real CallStore, a small in-test
 * CallControl, and the server on an ephemeral loopback port.
 */
import twilio from 'twilio';
import { CallStore } from '../../../runtime/calls/store.js';
import type { CallControl, ControlResult, OriginateRequest } from '../../../runtime/calls/control.js';
import { FINAL_STATUSES, type CallRecord } from '../../../runtime/calls/record.js';
import { newSid } from '../../../runtime/calls/sid.js';
import { startHttp, type HttpOptions, type HttpServer } from '../../../runtime/http/server.js';
import type { DaemonStats } from '../../../runtime/daemon.js';

export const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const AUTH_TOKEN = 'secret-token-of-the-tests';
export const OTHER_ACCOUNT = `AC${'f'.repeat(32)}`;

/** A CallControl that records what it was asked and drives the store like the call layer would. */
export class TestControl implements CallControl {
  readonly originated: OriginateRequest[] = [];
  readonly redirects: Array<{ sid: string; source: unknown }> = [];
  readonly ends: Array<{ sid: string; status: string }> = [];
  /** When set, originate refuses with this error. */
  refuse: { code: number; message: string; status: number } | undefined;

  constructor(readonly store: CallStore, readonly accountSid = ACCOUNT_SID) {}

  originate(request: OriginateRequest): Promise<ControlResult<CallRecord>> {
    this.originated.push(request);
    if (this.refuse) return Promise.resolve({ ok: false, error: this.refuse });
    const now = Date.now();
    const record = this.store.create({
      sid: newSid('CA'), accountSid: this.accountSid, direction: 'outbound-api', from: request.from, to: request.to,
      status: 'queued', dateCreated: now, dateUpdated: now,
    });
    return Promise.resolve({ ok: true, value: { ...record } });
  }

  redirect(sid: string, source: { url: string; method: 'GET' | 'POST' } | { twiml: string }): ControlResult<CallRecord> {
    this.redirects.push({ sid, source });
    const record = this.store.get(sid);
    if (!record || FINAL_STATUSES.has(record.status)) return { ok: false, error: { code: 21220, message: 'not in progress', status: 400 } };
    return { ok: true, value: { ...record } };
  }

  end(sid: string, status: 'completed' | 'canceled'): ControlResult<CallRecord> {
    this.ends.push({ sid, status });
    const record = this.store.update(sid, status === 'canceled' ? 'canceled' : 'completed');
    if (!record) return { ok: false, error: { code: 20404, message: 'no such call', status: 404 } };
    return { ok: true, value: { ...record } };
  }
}

/** A running API under test. */
export interface ApiFixture {
  server: HttpServer;
  store: CallStore;
  control: TestControl;
  stats: DaemonStats;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Authorization header value of the right credentials. */
  auth: string;
  /** A twilio client pointed at the server. */
  client: ReturnType<typeof twilio>;
  close(): void;
}

/** Start the server with a fresh store. */
export async function startApi(extra: Partial<HttpOptions> = {}): Promise<ApiFixture> {
  const store = new CallStore();
  const control = new TestControl(store);
  const stats: DaemonStats = { calls: 0, dialogs: 0, clientTx: 0, serverTx: 0, callsTotal: 0, draining: false };
  const server = await startHttp({
    host: '127.0.0.1', port: 0, stats: () => stats, store, control, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, ...extra,
  });
  const base = `http://127.0.0.1:${server.port}`;
  const client = twilio(ACCOUNT_SID, AUTH_TOKEN);
  client.api.baseUrl = base;
  return {
    server, store, control, stats, base, client,
    auth: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
    close: () => server.close(),
  };
}

/** A completed call record for the store. */
export function completedRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  const created = Date.UTC(2024, 0, 2, 3, 4, 5);
  return {
    sid: newSid('CA'), accountSid: ACCOUNT_SID, direction: 'inbound', from: 'sip:alice@example.com', to: 'sip:bob@example.com',
    status: 'completed', dateCreated: created, dateUpdated: created + 65_000, startTime: created + 5000, endTime: created + 65_000, duration: 60,
    ...overrides,
  };
}
