/**
 * GET /metrics: the exposition is parsed back (Prometheus text 0.0.4) and
 * checked against the sources: call store events, daemon and transport
 * counters, pool batching, and the webhook latency histogram fed by a real
 * webhook client's onComplete.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallStore } from '../../../runtime/calls/store.js';
import { newSid } from '../../../runtime/calls/sid.js';
import { Metrics, WEBHOOK_BUCKETS } from '../../../runtime/metrics/metrics.js';
import { createWebhookClient, type WebhookOutcome } from '../../../runtime/webhooks/client.js';
import { startHttp } from '../../../runtime/http/server.js';
import type { TransportStats } from '../../../runtime/transport/stats.js';
import type { DaemonStats } from '../../../runtime/daemon.js';
import { createResponse } from '../../../runtime/sip/build.js';
import { flushMicrotasks } from '../../support/fake-clock.js';
import { loopPair } from '../../support/sip-stack.js';

/** One parsed sample line. */
interface ParsedSample { name: string; labels: Record<string, string>; value: number }
/** A parsed document: TYPE by family, and every sample. */
interface Parsed { types: Map<string, string>; help: Map<string, string>; samples: ParsedSample[] }

/** A strict parser of the text format (what Prometheus would reject fails here; empty lines are ignored, as the format says). */
function parseExposition(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: ParsedSample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(comment[3]);
        expect(types.has(comment[2]!), `duplicate TYPE ${comment[2]}`).toBe(false);
        types.set(comment[2]!, comment[3]!);
      } else help.set(comment[2]!, comment[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `bad line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    const labelText = m![2] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (let lm = re.exec(labelText); lm; lm = re.exec(labelText)) {
      labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = re.lastIndex;
      if (consumed === labelText.length) break;
    }
    expect(consumed, `bad labels: ${labelText}`).toBe(labelText.length);
    const raw = m![3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    expect(Number.isNaN(value) && raw !== 'NaN', `bad value: ${line}`).toBe(false);
    const family = m![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(m![1]!) || types.get(family) === 'histogram', `sample before its TYPE: ${line}`).toBe(true);
    samples.push({ name: m![1]!, labels, value });
  }
  return { types, help, samples };
}

function value(parsed: Parsed, name: string, labels: Record<string, string> = {}): number | undefined {
  return parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

const stats: DaemonStats = { calls: 3, dialogs: 4, clientTx: 5, serverTx: 6, callsTotal: 42, draining: true };
const transport: TransportStats = {
  in: { requests: { INVITE: 10, BYE: 7 }, responses: { 200: 9, 180: 4 }, keepAlives: 2 },
  out: { requests: { INVITE: 8 }, responses: { 100: 10, 200: 10, 486: 1 }, keepAlives: 2 },
  parseErrors: { E_NO_CALL_ID: 3, PB_ERR_VIA: 1 },
  sendErrors: { PB_ERR_TRANSPORT_SEND: 2 },
  unanswered: { 'unsafe-header': 5 },
  batching: { batching: true, direct: 100, pooledBatches: 4, pooled: 256, inlineBatches: 2, inline: 10, busyFallbacks: 1, poolFailures: 0, overflows: 0, waiting: 17, peakWaiting: 300 },
};

describe('exposition format', () => {
  it('escapes label values, writes cumulative histogram buckets with +Inf, _sum and _count', async () => {
    const metrics = new Metrics();
    metrics.observeHttp('C:\\x "y"\nz', 200);
    const outcome = (method: 'GET' | 'POST', ms: number): WebhookOutcome => ({ url: 'http://h/', method, ms, ok: true, status: 200 });
    for (const ms of [5, 10, 500, 3000]) metrics.observeWebhook(outcome('GET', ms));
    const text = await metrics.render();
    const parsed = parseExposition(text);
    expect(text).toContain('route="C:\\\\x \\"y\\"\\nz"');
    expect(value(parsed, 'patchbay_http_requests_total', { route: 'C:\\x "y"\nz', status: '200' })).toBe(1);
    const bucket = (le: string): number | undefined => value(parsed, 'patchbay_webhook_duration_seconds_bucket', { method: 'GET', le });
    expect(bucket('0.005')).toBe(1);
    expect(bucket('0.01')).toBe(2);
    expect(bucket('0.5')).toBe(3);
    expect(bucket('2.5')).toBe(3);
    expect(bucket('5')).toBe(4);
    expect(bucket('+Inf')).toBe(4);
    expect(value(parsed, 'patchbay_webhook_duration_seconds_count', { method: 'GET' })).toBe(4);
    expect(value(parsed, 'patchbay_webhook_duration_seconds_sum', { method: 'GET' })).toBeCloseTo(3.515);
  });

  it('keeps the counters of two registries apart (no global registry)', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.observeHttp('calls.list', 200);
    expect(value(parseExposition(await a.render()), 'patchbay_http_requests_total', { route: 'calls.list', status: '200' })).toBe(1);
    expect(value(parseExposition(await b.render()), 'patchbay_http_requests_total', { route: 'calls.list', status: '200' })).toBeUndefined();
  });
});

describe('GET /metrics', () => {
  let hook: Server;
  let hookUrl: string;
  beforeAll(async () => {
    hook = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0];
        if (path === '/slow') setTimeout(() => res.end('<Response/>'), 30);
        else if (path === '/fail') { res.statusCode = 404; res.end(); } else res.end('<Response/>');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => hook.close(r)));

  it('exposes calls, SIP counters, pool batching, webhook latency and failures', async () => {
    const store = new CallStore();
    const metrics = new Metrics({ store, stats: () => stats, transportStats: () => transport });
    const outcomes: WebhookOutcome[] = [];
    const webhooks = createWebhookClient({
      accountSid: `AC${'0'.repeat(32)}`, authToken: 't', retries: 0, timeoutMs: 2000,
      onComplete: (o) => { outcomes.push(o); metrics.observeWebhook(o); },
    });
    expect((await webhooks.request({ url: `${hookUrl}/ok` })).ok).toBe(true);
    expect((await webhooks.request({ url: `${hookUrl}/slow`, method: 'GET' })).ok).toBe(true);
    expect((await webhooks.request({ url: `${hookUrl}/fail` })).ok).toBe(false);
    expect((await webhooks.request({ url: 'http://127.0.0.1:1/refused' })).ok).toBe(false);
    expect(outcomes.map((o) => [o.ok, o.status, o.twilioCode])).toEqual([[true, 200, undefined], [true, 200, undefined], [false, 404, 11217], [false, undefined, 11205]]);
    expect(outcomes[1]!.ms).toBeGreaterThanOrEqual(25);

    const now = Date.now();
    const make = (status: 'busy' | 'completed' | 'no-answer'): void => {
      const sid = newSid('CA');
      store.create({ sid, accountSid: 'AC', direction: 'inbound', from: 'a', to: 'b', status: 'ringing', dateCreated: now, dateUpdated: now });
      store.update(sid, status);
    };
    make('completed');
    make('completed');
    make('busy');
    make('no-answer');
    store.create({ sid: newSid('CA'), accountSid: 'AC', direction: 'outbound-api', from: 'a', to: 'b', status: 'queued', dateCreated: now, dateUpdated: now });
    store.emit({ type: 'error', at: now, callSid: 'CA1', code: 11200, message: 'x' });

    const server = await startHttp({ host: '127.0.0.1', port: 0, stats: () => stats, metrics });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const p = parseExposition(await res.text());
      expect(p.types.get('patchbay_calls_total')).toBe('counter');
      expect(value(p, 'patchbay_calls_total', { status: 'completed' })).toBe(2);
      expect(value(p, 'patchbay_calls_total', { status: 'busy' })).toBe(1);
      expect(value(p, 'patchbay_calls_total', { status: 'no-answer' })).toBe(1);
      expect(value(p, 'patchbay_calls_total', { status: 'canceled' })).toBe(0);
      expect(value(p, 'patchbay_calls_created_total', { direction: 'inbound' })).toBe(4);
      expect(value(p, 'patchbay_calls_created_total', { direction: 'outbound-api' })).toBe(1);
      expect(value(p, 'patchbay_call_alerts_total', { level: 'error', code: '11200' })).toBe(1);
      expect(value(p, 'patchbay_calls_live')).toBe(1);
      expect(value(p, 'patchbay_calls_active')).toBe(3);
      expect(value(p, 'patchbay_dialogs_active')).toBe(4);
      expect(value(p, 'patchbay_transactions_active', { kind: 'client' })).toBe(5);
      expect(value(p, 'patchbay_transactions_active', { kind: 'server' })).toBe(6);
      expect(value(p, 'patchbay_calls_handled_total')).toBe(42);
      expect(value(p, 'patchbay_draining')).toBe(1);
      expect(value(p, 'patchbay_sip_requests_total', { direction: 'in', method: 'INVITE' })).toBe(10);
      expect(value(p, 'patchbay_sip_requests_total', { direction: 'out', method: 'INVITE' })).toBe(8);
      expect(value(p, 'patchbay_sip_responses_total', { direction: 'out', status: '486' })).toBe(1);
      expect(value(p, 'patchbay_sip_keepalives_total', { direction: 'in' })).toBe(2);
      expect(value(p, 'patchbay_sip_parse_errors_total', { code: 'E_NO_CALL_ID' })).toBe(3);
      expect(value(p, 'patchbay_sip_send_errors_total', { code: 'PB_ERR_TRANSPORT_SEND' })).toBe(2);
      expect(value(p, 'patchbay_sip_unanswered_total', { reason: 'unsafe-header' })).toBe(5);
      expect(value(p, 'patchbay_pool_queue_depth')).toBe(17);
      expect(value(p, 'patchbay_pool_queue_depth_peak')).toBe(300);
      expect(value(p, 'patchbay_pool_batches_total', { path: 'pool' })).toBe(4);
      expect(value(p, 'patchbay_pool_batched_datagrams_total', { path: 'pool' })).toBe(256);
      expect(value(p, 'patchbay_pool_busy_fallbacks_total')).toBe(1);
      expect(p.types.get('patchbay_webhook_duration_seconds')).toBe('histogram');
      const buckets = p.samples.filter((s) => s.name === 'patchbay_webhook_duration_seconds_bucket' && s.labels.method === 'POST');
      expect(buckets.map((b) => b.labels.le)).toEqual([...WEBHOOK_BUCKETS.map(String), '+Inf']);
      expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
      expect(value(p, 'patchbay_webhook_duration_seconds_count', { method: 'POST' })).toBe(3);
      expect(value(p, 'patchbay_webhook_duration_seconds_count', { method: 'GET' })).toBe(1);
      expect(value(p, 'patchbay_webhook_duration_seconds_bucket', { method: 'GET', le: '0.025' })).toBe(0);
      expect(value(p, 'patchbay_webhook_failures_total', { code: '11217' })).toBe(1);
      expect(value(p, 'patchbay_webhook_failures_total', { code: '11205' })).toBe(1);
      expect(value(p, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      server.close();
      metrics.close();
    }
  });

  it('omits the sections whose source is absent', async () => {
    const metrics = new Metrics({ stats: () => stats, transportStats: () => ({ ...transport, batching: undefined }) });
    const p = parseExposition(await metrics.render());
    expect(p.types.has('patchbay_pool_queue_depth')).toBe(false);
    expect(p.types.has('patchbay_calls_live')).toBe(false);
    expect(p.types.has('patchbay_cdr_records_total')).toBe(false);
    expect(value(p, 'patchbay_sip_requests_total', { direction: 'in', method: 'BYE' })).toBe(7);
  });
});

describe('sections that come and go with their source', () => {
  it('pool batching appears once the transport reports it, and goes again when it stops', async () => {
    let batching: TransportStats['batching'];
    const metrics = new Metrics({ transportStats: () => ({ ...transport, batching }) });
    expect(parseExposition(await metrics.render()).types.has('patchbay_pool_queue_depth')).toBe(false);
    batching = transport.batching;
    const p = parseExposition(await metrics.render());
    expect(p.types.get('patchbay_pool_queue_depth')).toBe('gauge');
    expect(value(p, 'patchbay_pool_batches_total', { path: 'inline' })).toBe(2);
    batching = undefined;
    expect(parseExposition(await metrics.render()).types.has('patchbay_pool_batches_total')).toBe(false);
  });
});

describe('labels taken from the wire', () => {
  it('/metrics with 1,000 made-up request methods has one series for them, whatever arrives', async () => {
    const { uac, uas } = await loopPair();
    uas.tx.onRequest((tx, request) => tx.respond(createResponse(request, 405)));
    const encoder = new TextEncoder();
    const request = (method: string, i: number): Uint8Array => encoder.encode(
      `${method} sip:bob@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-m${i}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a${i}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: m-${i}\r\n` +
      `CSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`);
    await uac.transport.send(request('OPTIONS', 0), uas.address);
    for (let i = 1; i <= 1000; i++) await uac.transport.send(request(`MADEUP${i}`, i), uas.address);
    await flushMicrotasks();
    const metrics = new Metrics({ transportStats: () => uas.layer.stats() });
    const text = await metrics.render();
    const p = parseExposition(text);
    const inbound = p.samples.filter((s) => s.name === 'patchbay_sip_requests_total' && s.labels.direction === 'in');
    expect(inbound.map((s) => [s.labels.method, s.value])).toEqual([['OPTIONS', 1], ['other', 1000]]);
    expect(value(p, 'patchbay_sip_responses_total', { direction: 'out', status: '405' })).toBe(1001);
    expect(text.length).toBeLessThan(8192);
  });
});

describe('admission metrics', () => {
  it('exposes challenges, failures, lockouts by scope and rate-limited requests by method and action', async () => {
    const metrics = new Metrics({
      admission: () => ({
        admission: { challenges: 12, failures: 7, lockouts: { source: 2, user: 1 }, locked: { source: 30, user: 4 } },
        rateLimit: { sources: 9, blocks: 3, evictions: 0, limited: [{ method: 'other', action: 'dropped', value: 5 }, { method: 'INVITE', action: 'rejected', value: 3 }] },
      }),
    });
    const p = parseExposition(await metrics.render());
    expect(value(p, 'patchbay_auth_challenges_total')).toBe(12);
    expect(value(p, 'patchbay_auth_failures_total')).toBe(7);
    expect(value(p, 'patchbay_auth_lockouts_total', { scope: 'source' })).toBe(2);
    expect(value(p, 'patchbay_auth_lockouts_total', { scope: 'user' })).toBe(1);
    expect(value(p, 'patchbay_auth_locked_total', { scope: 'source' })).toBe(30);
    expect(value(p, 'patchbay_ratelimited_total', { method: 'INVITE', action: 'rejected' })).toBe(3);
    expect(value(p, 'patchbay_ratelimited_total', { method: 'other', action: 'dropped' })).toBe(5);
    expect(value(p, 'patchbay_ratelimit_blocks_total')).toBe(3);
    expect(value(p, 'patchbay_ratelimit_sources')).toBe(9);
    expect(p.types.get('patchbay_ratelimit_sources')).toBe('gauge');
  });
});
