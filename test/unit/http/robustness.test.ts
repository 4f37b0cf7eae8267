/**
 * The HTTP layer against bad clients, over raw HTTP: credentials, other
 * accounts, unknown paths and methods, malformed and oversized bodies,
 * uploads aborted half-way, and the operational endpoints.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SID, AUTH_TOKEN, OTHER_ACCOUNT, startApi, type ApiFixture } from './helpers.js';
import { startHttp } from '../../../runtime/http/server.js';

const FORM = 'application/x-www-form-urlencoded';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Send raw bytes, optionally destroy the socket; resolves with what the server answered (if anything). */
function raw(port: number, data: string | Buffer, destroyAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => { answer += d.toString('latin1'); });
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
    socket.write(data);
    if (destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), destroyAfterMs);
    else setTimeout(() => socket.end(), 300);
  });
}

describe('HTTP layer robustness', () => {
  let api: ApiFixture;
  let calls: string;
  beforeAll(async () => {
    api = await startApi({ maxBodyBytes: 64 * 1024 });
    calls = `${api.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`;
  });
  afterAll(() => api.close());

  const post = (body: BodyInit, headers: Record<string, string> = {}, url = calls): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { Authorization: api.auth, 'Content-Type': FORM, ...headers }, body });

  it.each([
    ['no credentials', undefined],
    ['a wrong token', basic(ACCOUNT_SID, 'wrong')],
    ['another account', basic(OTHER_ACCOUNT, AUTH_TOKEN)],
    ['a token without user', `Basic ${Buffer.from(AUTH_TOKEN).toString('base64')}`],
    ['a Bearer token', `Bearer ${AUTH_TOKEN}`],
  ])('answers 401 with WWW-Authenticate to %s', async (_label, authorization) => {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(calls, { method, headers: authorization ? { Authorization: authorization } : {}, body: method === 'POST' ? 'To=x' : undefined });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
      expect(await res.json()).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
  });

  it('answers 404 (20404) to a path naming another account', async () => {
    const res = await fetch(`${api.base}/2010-04-01/Accounts/${OTHER_ACCOUNT}/Calls.json`, { headers: { Authorization: api.auth } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
  });

  it('answers 404 to unknown paths, 405 (20004) to unsupported methods', async () => {
    for (const path of [`/2010-04-01/Accounts/${ACCOUNT_SID}/Queues.json`, `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls`, '/nope', '/2010-04-01/Accounts']) {
      const res = await fetch(`${api.base}${path}`, { headers: { Authorization: api.auth } });
      expect(res.status, path).toBe(404);
      expect((await res.json() as { code: number }).code).toBe(20404);
    }
    const del = await fetch(`${api.base}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/CA${'1'.repeat(32)}.json`, { method: 'DELETE', headers: { Authorization: api.auth } });
    expect(del.status).toBe(405);
    expect(await del.json()).toMatchObject({ code: 20004, status: 405 });
    const put = await fetch(calls, { method: 'PUT', headers: { Authorization: api.auth }, body: 'x=1' });
    expect(put.status).toBe(405);
  });

  it('answers 400 with a message to malformed bodies', async () => {
    const cases: Array<[BodyInit, Record<string, string>]> = [
      [JSON.stringify({ To: 'sip:a@b', From: 'x', Url: 'http://h/' }), { 'Content-Type': 'application/json' }],
      ['To=%zz&From=a&Url=http://h/', {}],
      ['To=%ff&From=a&Url=http://h/', {}],
      [Buffer.from([0x54, 0x6f, 0x3d, 0xc3, 0x28]), {}],
    ];
    for (const [body, headers] of cases) {
      const res = await post(body, headers);
      expect(res.status).toBe(400);
      const json = await res.json() as { code: number; message: string };
      expect(json.code).toBe(400);
      expect(json.message.length).toBeGreaterThan(10);
    }
    expect(api.control.originated).toHaveLength(0);
  });

  it('answers 413 to a body over the limit, declared or chunked', async () => {
    const big = `To=${'a'.repeat(70 * 1024)}`;
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: 413, status: 413 });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(8 * 1024).fill(0x61));
        controller.close();
      },
    });
    const chunked = await fetch(calls, { method: 'POST', headers: { Authorization: api.auth, 'Content-Type': FORM }, body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    const health = await fetch(`${api.base}/healthz`);
    expect(health.status).toBe(200);
  });

  it('survives uploads aborted half-way and clients that leave during a slow originate', async () => {
    const head = (length: number): string => `POST /2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json HTTP/1.1\r\nHost: x\r\n`
      + `Authorization: ${api.auth}\r\nContent-Type: ${FORM}\r\nContent-Length: ${length}\r\n\r\n`;
    await raw(api.server.port, `${head(1000)}To=sip%3Abob`, 50);
    await raw(api.server.port, head(1000), 0);
    await raw(api.server.port, `POST /2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nAuthorization: ${api.auth}\r\n\r\n5\r\nTo=si`, 30);
    const original = api.control.originate.bind(api.control);
    api.control.originate = async (request) => {
      await new Promise((r) => setTimeout(r, 150));
      return original(request);
    };
    try {
      const abort = new AbortController();
      const pending = post('To=sip%3Abob%40h&From=a&Url=http%3A%2F%2Fh%2F', {}, calls);
      void pending.catch(() => undefined);
      const aborted = fetch(calls, {
        method: 'POST', signal: abort.signal, headers: { Authorization: api.auth, 'Content-Type': FORM }, body: 'To=sip%3Abob%40h&From=a&Url=http%3A%2F%2Fh%2F',
      }).catch((e: unknown) => e);
      setTimeout(() => abort.abort(), 30);
      expect(await aborted).toBeInstanceOf(Error);
      expect((await pending).status).toBe(201);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      api.control.originate = original;
    }
    expect((await fetch(`${api.base}/healthz`)).status).toBe(200);
    const answer = await raw(api.server.port, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('never takes the unread body of a refused POST for the next request', async () => {
    const answer = await raw(api.server.port, `POST /2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 5\r\n\r\nTo=ab`
      + `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 401 Unauthorized/);
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses.slice(1).every((s) => s === '200')).toBe(true);
  });

  it('serves /healthz, /readyz (503 while draining) and /stats', async () => {
    expect(await (await fetch(`${api.base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${api.base}/readyz`)).status).toBe(200);
    api.stats.draining = true;
    const draining = await fetch(`${api.base}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ ready: false });
    api.stats.draining = false;
    expect(await (await fetch(`${api.base}/stats`)).json()).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  });

  it('answers 503 when no credentials are configured', async () => {
    const server = await startHttp({ host: '127.0.0.1', port: 0, stats: () => ({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0, callsTotal: 0, draining: false }) });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`, { headers: { Authorization: api.auth } });
      expect(res.status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('refuses to listen on a port in use', async () => {
    await expect(startHttp({ host: '127.0.0.1', port: api.server.port, stats: () => api.stats })).rejects.toThrow(/cannot listen/);
  });
});
