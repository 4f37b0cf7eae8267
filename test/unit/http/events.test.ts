/**
 * The live event stream with a real WebSocket client (`ws`, present in
 * node_modules; Node 20 has no global WebSocket): authentication at the
 * upgrade (Basic header or ?token=), the CallSid filter, and every kind of
 * CallEvent published as JSON.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SID, AUTH_TOKEN, OTHER_ACCOUNT, startApi, type ApiFixture } from './helpers.js';
import { newSid } from '../../../runtime/calls/sid.js';

/** The part of the `ws` client API used here. */
interface WsClient {
  on(event: 'open', f: () => void): void;
  on(event: 'message', f: (data: string) => void): void;
  on(event: 'close', f: (code: number) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  on(event: 'unexpected-response', f: (req: unknown, res: { statusCode: number; headers: Record<string, string> }) => void): void;
  close(): void;
}
type WsConstructor = new (url: string, options?: { headers?: Record<string, string> }) => WsClient;
const WebSocket = createRequire(import.meta.url)('ws') as WsConstructor;

/** A connected client collecting messages. */
interface Listener {
  messages: Array<Record<string, unknown>>;
  next(count: number): Promise<Array<Record<string, unknown>>>;
  close(): void;
}

function open(url: string, headers: Record<string, string> = {}): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: Array<Record<string, unknown>> = [];
    let waiter: (() => void) | undefined;
    ws.on('message', (data) => {
      messages.push(JSON.parse(String(data)) as Record<string, unknown>);
      waiter?.();
    });
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode, headers: res.headers })));
    ws.on('error', reject);
    ws.on('open', () => resolve({
      messages,
      next: (count) => new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`got ${messages.length} of ${count} messages`)), 2000);
        waiter = () => {
          if (messages.length >= count) {
            clearTimeout(timer);
            done(messages.slice(0, count));
          }
        };
        waiter();
      }),
      close: () => ws.close(),
    }));
  });
}

describe('WebSocket event stream', () => {
  let api: ApiFixture;
  let url: string;
  beforeAll(async () => {
    api = await startApi();
    url = `ws://127.0.0.1:${api.server.port}/2010-04-01/Accounts/${ACCOUNT_SID}/Events`;
  });
  afterAll(() => api.close());

  it('refuses an upgrade without valid credentials (401), for another account (404) or with a bad CallSid (400)', async () => {
    await expect(open(url)).rejects.toMatchObject({ statusCode: 401 });
    await expect(open(`${url}?token=wrong`)).rejects.toMatchObject({ statusCode: 401 });
    await expect(open(url, { Authorization: 'Basic AAAA' })).rejects.toMatchObject({ statusCode: 401 });
    await expect(open(`ws://127.0.0.1:${api.server.port}/2010-04-01/Accounts/${OTHER_ACCOUNT}/Events`, { Authorization: api.auth })).rejects.toMatchObject({ statusCode: 404 });
    await expect(open(`${url}?CallSid=nope`, { Authorization: api.auth })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('streams every call event as JSON to a Basic-authenticated client', async () => {
    const client = await open(url, { Authorization: api.auth });
    try {
      const call = await api.client.calls.create({ to: 'sip:bob@127.0.0.1', from: 'alice', url: 'https://app.example.com/' });
      const child = newSid('CA');
      api.store.emit({ type: 'dial.attempt', at: Date.now(), callSid: call.sid, childSid: child, target: 'sip:carol@example.com' });
      api.store.emit({ type: 'transfer', at: Date.now(), callSid: call.sid, stage: 'refer', target: 'sip:dave@example.com' });
      api.store.emit({ type: 'warning', at: Date.now(), callSid: call.sid, code: 13224, message: 'bad target' });
      api.store.update(call.sid, 'in-progress');
      const messages = await client.next(5);
      expect(messages.map((m) => m.type)).toEqual(['call.created', 'dial.attempt', 'transfer', 'warning', 'call.status']);
      expect(messages.every((m) => m.call_sid === call.sid)).toBe(true);
      const sequences = messages.map((m) => m.sequence as number);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(messages[0]).toMatchObject({ call: { sid: call.sid, status: 'queued', direction: 'outbound-api', api_version: '2010-04-01' } });
      expect(messages[1]).toMatchObject({ child_call_sid: child, target: 'sip:carol@example.com' });
      expect(messages[2]).toMatchObject({ stage: 'refer', target: 'sip:dave@example.com', detail: null });
      expect(messages[3]).toMatchObject({ code: 13224, message: 'bad target', more_info: 'https://www.twilio.com/docs/errors/13224' });
      expect(messages[4]).toMatchObject({ previous_status: 'queued', call: { status: 'in-progress' } });
      expect(typeof messages[4]!.timestamp).toBe('string');
      expect(api.server.events.clients).toBe(1);
    } finally {
      client.close();
    }
  });

  it('filters by CallSid (the call and its child legs) for a ?token= client', async () => {
    const first = await api.client.calls.create({ to: 'sip:bob@127.0.0.1', from: 'alice', url: 'https://app.example.com/' });
    const client = await open(`${url}?CallSid=${first.sid}&token=${encodeURIComponent(AUTH_TOKEN)}`);
    try {
      const other = await api.client.calls.create({ to: 'sip:bob@127.0.0.1', from: 'alice', url: 'https://app.example.com/' });
      api.store.update(other.sid, 'ringing');
      const now = Date.now();
      const child = api.store.create({
        sid: newSid('CA'), accountSid: ACCOUNT_SID, parentCallSid: first.sid, direction: 'outbound-dial', from: 'alice', to: 'sip:carol@h',
        status: 'initiated', dateCreated: now, dateUpdated: now,
      });
      api.store.update(first.sid, 'completed');
      const messages = await client.next(2);
      expect(messages.map((m) => [m.type, m.call_sid])).toEqual([['call.created', child.sid], ['call.status', first.sid]]);
      await new Promise((r) => setTimeout(r, 50));
      expect(client.messages).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('is not served without credentials configured (503)', async () => {
    const bare = await startApi({ accountSid: undefined, authToken: undefined });
    try {
      await expect(open(`ws://127.0.0.1:${bare.server.port}/2010-04-01/Accounts/${ACCOUNT_SID}/Events`, { Authorization: bare.auth })).rejects.toMatchObject({ statusCode: 503 });
    } finally {
      bare.close();
    }
  });
});
