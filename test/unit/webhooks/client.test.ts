import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookClient, type WebhookClientOptions } from '../../../runtime/webhooks/client.js';
import { type WebhookParams } from '../../../runtime/webhooks/params.js';
import { selfSignedPair } from '../../support/tls-cert.js';
import { expectValidSignature as checkSignature, formParams, startRecordingApp, twiml, type Recorded, type RecordingApp } from './recording-app.js';

const TOKEN = 'test-auth-token-0123456789abcdef';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';

let app: RecordingApp;
let base: string;
let requests: Recorded[];

beforeAll(async () => {
  app = await startRecordingApp();
  base = app.base;
  requests = app.requests;
});

afterAll(async () => {
  await app.close();
});

afterEach(() => {
  requests.length = 0;
});

function client(options: Partial<WebhookClientOptions> = {}): ReturnType<typeof createWebhookClient> {
  return createWebhookClient({ accountSid: ACCOUNT, authToken: TOKEN, timeoutMs: 2000, retries: 1, ...options });
}

/** What an Express app with `urlencoded({extended:false})` hands to validateRequest. */

/** Check one recorded request's signature with the twilio package, as a customer app would. */
function expectValidSignature(req: Recorded): void {
  checkSignature(req, base, TOKEN);
}

describe('signed requests accepted by twilio.validateRequest', () => {
  const cases: { name: string; path: string; params: WebhookParams }[] = [
    { name: 'plain POST', path: '/voice', params: { CallSid: 'CA' + '0'.repeat(32), From: '+14158675310', To: '+18005551212' } },
    { name: 'unicode and reserved characters', path: '/voice', params: { Body: 'héllo wörld ☎ 😀 & = + % #', Ünï: 'ç ñ' } },
    { name: 'repeated names', path: '/voice', params: { Digits: ['9', '1', '5', '1'], a: 'x' } },
    { name: 'URL with a query string', path: '/voice?foo=1&bar=a%20b&baz=%C3%A9', params: { CallStatus: 'ringing' } },
    { name: 'uppercase sorts first', path: '/v', params: { b: '1', B: '2', aa: '3', A: '4' } },
  ];

  for (const method of ['POST', 'GET'] as const) {
    for (const testCase of cases) {
      it(`${method}: ${testCase.name}`, async () => {
        app.handler = (_req, res) => twiml(res);
        const result = await client().request({ url: base + testCase.path, method, params: testCase.params });
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value).toMatchObject({ status: 200, contentType: 'text/xml', body: '<Response><Say>hi</Say></Response>' });
        expect(requests).toHaveLength(1);
        const req = requests[0]!;
        expect(req.method).toBe(method);
        expectValidSignature(req);
        const received = method === 'POST' ? formParams(req.body) : formParams(req.url.slice(req.url.indexOf('?') + 1));
        expect(received).toMatchObject({ ...testCase.params, AccountSid: ACCOUNT });
        if (method === 'POST') expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
        else expect(req.body).toBe('');
      });
    }
  }

  it('strips the fragment before sending and signing', async () => {
    app.handler = (_req, res) => twiml(res);
    const result = await client().request({ url: `${base}/frag?x=1#rc=3&ct=100`, params: { a: 'b' } });
    expect(result.ok).toBe(true);
    expect(requests[0]!.url).toBe('/frag?x=1');
    expectValidSignature(requests[0]!);
  });

  it('sends the configured User-Agent', async () => {
    app.handler = (_req, res) => twiml(res);
    await client({ userAgent: 'pb-test/1' }).request({ url: `${base}/ua` });
    expect(requests[0]!.headers['user-agent']).toBe('pb-test/1');
  });
});

describe('failures and retries', () => {
  it('times out with 11203', async () => {
    app.handler = () => undefined;
    const started = Date.now();
    const result = await client({ timeoutMs: 200 }).request({ url: `${base}/slow` });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_TIMEOUT', twilioCode: 11203, twilioUmbrellaCode: 11200 });
    expect(result.error.message).toContain('200 ms');
    expect(requests).toHaveLength(1);
  });

  it('retries a 5xx, then succeeds; every attempt is signed', async () => {
    let calls = 0;
    app.handler = (_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(503);
        res.end('busy');
      } else twiml(res);
    };
    const result = await client({ retries: 2 }).request({ url: `${base}/flaky`, params: { x: 'y' } });
    expect(result.ok).toBe(true);
    expect(requests).toHaveLength(2);
    requests.forEach(expectValidSignature);
  });

  it('gives up after the retries with 11217', async () => {
    app.handler = (_req, res) => {
      res.writeHead(500);
      res.end();
    };
    const result = await client({ retries: 2 }).request({ url: `${base}/down` });
    expect(requests).toHaveLength(3);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_HTTP_STATUS', twilioCode: 11217, status: 500 });
  });

  it('does not retry a 4xx', async () => {
    app.handler = (_req, res) => {
      res.writeHead(404);
      res.end('nope');
    };
    const result = await client({ retries: 3 }).request({ url: `${base}/missing` });
    expect(requests).toHaveLength(1);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_HTTP_STATUS', twilioCode: 11217, status: 404 });
      expect(result.error.message).toContain('HTTP 404');
    }
  });

  it('refuses a body over the limit with 11750 (declared and chunked)', async () => {
    const big = 'x'.repeat(70 * 1024);
    app.handler = (req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        for (let i = 0; i < 70; i++) res.write('y'.repeat(1024));
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': String(big.length) });
        res.end(big);
      }
    };
    for (const path of ['/declared', '/chunked']) {
      const result = await client().request({ url: base + path });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_BODY_TOO_LARGE', twilioCode: 11750, limitBytes: 65536 });
    }
  });

  it('follows redirects (POST→GET on 302, signed each hop) and stops a loop at 10 with 11215', async () => {
    app.handler = (req, res) => {
      if (req.url.startsWith('/loop')) {
        res.writeHead(302, { Location: '/loop' });
        res.end();
      } else if (req.url === '/moved') {
        res.writeHead(302, { Location: '/final?from=moved' });
        res.end();
      } else twiml(res);
    };
    const moved = await client().request({ url: `${base}/moved`, params: { a: '1' } });
    expect(moved.ok).toBe(true);
    if (moved.ok) expect(moved.value.url).toBe(`${base}/final?from=moved`);
    expect(requests.map((r) => r.method)).toEqual(['POST', 'GET']);
    requests.forEach(expectValidSignature);
    requests.length = 0;
    const loop = await client().request({ url: `${base}/loop` });
    expect(loop.ok).toBe(false);
    if (!loop.ok) expect(loop.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_TOO_MANY_REDIRECTS', twilioCode: 11215 });
    expect(requests).toHaveLength(11);
  });

  it('keeps method and body on 307', async () => {
    app.handler = (req, res) => {
      if (req.url === '/temp') {
        res.writeHead(307, { Location: '/kept' });
        res.end();
      } else twiml(res);
    };
    const result = await client().request({ url: `${base}/temp`, params: { a: 'é' } });
    expect(result.ok).toBe(true);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /temp', 'POST /kept']);
    expect(formParams(requests[1]!.body)).toMatchObject({ a: 'é' });
    requests.forEach(expectValidSignature);
  });

  it('sends no credentials first, then Basic auth after a 401; signs without userinfo', async () => {
    const expected = `Basic ${Buffer.from('alice:s3cr:t é').toString('base64')}`;
    app.handler = (req, res) => {
      if (req.headers.authorization === expected) twiml(res);
      else {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="app"' });
        res.end();
      }
    };
    const url = base.replace('http://', 'http://alice:s3cr%3At%20%C3%A9@') + '/private?q=1';
    const result = await client().request({ url, params: { CallSid: 'CA1' } });
    expect(result.ok).toBe(true);
    expect(requests.map((r) => r.headers.authorization)).toEqual([undefined, expected]);
    expect(requests.map((r) => r.url)).toEqual(['/private?q=1', '/private?q=1']);
    requests.forEach(expectValidSignature);
  });

  it('reports 11217 when Basic credentials are refused', async () => {
    app.handler = (_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="app"' });
      res.end();
    };
    const result = await client().request({ url: base.replace('http://', 'http://bob:wrong@') + '/private' });
    expect(requests).toHaveLength(2);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ twilioCode: 11217, status: 401 });
  });

  it('connection refused → 11205, retried', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await client({ retries: 2 }).request({ url: `http://127.0.0.1:${port}/` });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_CONNECTION', twilioCode: 11205, twilioUmbrellaCode: 11200 });
    expect(result.error.message).toContain('ECONNREFUSED');
  });

  it('unusable URLs → 11210', async () => {
    for (const url of ['not a url', 'ftp://example.com/x', 'http://host.invalid/']) {
      const result = await client().request({ url });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_BAD_HOST', twilioCode: 11210 });
    }
  });
});

describe('kept-alive connections', () => {
  it('reuses one connection for requests in sequence', async () => {
    let connections = 0;
    const onConnection = (): void => { connections++; };
    app.server.on('connection', onConnection);
    try {
      app.handler = (_req, res) => twiml(res);
      const webhooks = client();
      for (let i = 0; i < 5; i++) {
        const result = await webhooks.request({ url: `${base}/seq/${i}`, params: { N: String(i) } });
        expect(result.ok).toBe(true);
      }
      expect(requests).toHaveLength(5);
      expect(connections).toBe(1);
    } finally {
      app.server.off('connection', onConnection);
    }
  });

  it('recovers when the server has closed the idle connection', async () => {
    const brief = createServer((req, res) => {
      req.resume();
      req.on('end', () => twiml(res));
    });
    brief.keepAliveTimeout = 50;
    await new Promise<void>((resolve) => brief.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(brief.address() as AddressInfo).port}/voice`;
      const webhooks = client({ retries: 1 });
      expect((await webhooks.request({ url })).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 150));
      const again = await webhooks.request({ url });
      expect(again.ok).toBe(true);
      if (again.ok) expect(again.value.body).toContain('<Say>');
    } finally {
      brief.closeAllConnections();
      await new Promise<void>((resolve) => brief.close(() => resolve()));
    }
  });

  it('queues requests beyond maxSockets instead of failing them', async () => {
    let connections = 0;
    const onConnection = (): void => { connections++; };
    app.server.on('connection', onConnection);
    try {
      app.handler = (_req, res) => setTimeout(() => twiml(res), 20);
      const webhooks = client({ maxSockets: 2 });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => webhooks.request({ url: `${base}/q/${i}` })));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(requests).toHaveLength(8);
      expect(connections).toBe(2);
    } finally {
      app.server.off('connection', onConnection);
    }
  });
});

describe('transport edge cases', () => {
  it('a malformed response → 11200, not retried', async () => {
    let connections = 0;
    const raw = createNetServer((socket) => {
      connections++;
      socket.on('data', () => socket.end('HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const result = await client({ retries: 2 }).request({ url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/bad` });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_FAILED', twilioCode: 11200 });
      expect(connections).toBe(1);
    } finally {
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('fetches over https with a trusted CA (tls option), signing the https URL', async () => {
    const pair = selfSignedPair();
    const seen: Recorded[] = [];
    const secure = createHttpsServer({ cert: pair.cert, key: pair.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        twiml(res);
      });
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://localhost:${(secure.address() as AddressInfo).port}/voice?x=1`;
      const result = await client({ tls: { ca: pair.cert } }).request({ url, params: { CallSid: 'CA1' } });
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.value).toMatchObject({ status: 200, url });
      const signature = seen[0]!.headers['x-twilio-signature'] as string;
      expect(twilio.validateRequest(TOKEN, signature, url, formParams(seen[0]!.body))).toBe(true);
      const untrusted = await client({ retries: 0 }).request({ url });
      expect(untrusted.ok).toBe(false);
      if (!untrusted.ok) expect(untrusted.error).toMatchObject({ code: 'PB_ERR_WEBHOOK_CONNECTION', twilioCode: 11205 });
    } finally {
      secure.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
    }
  });

  it('resends on a fresh connection, without a client retry, when a kept-alive socket dies under the request', async () => {
    let connections = 0;
    const sockets: Socket[] = [];
    const raw = createNetServer((socket) => {
      connections++;
      sockets.push(socket);
      let requests = 0;
      socket.on('data', () => {
        requests++;
        if (requests === 2) socket.destroy();
        else socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 11\r\n\r\n<Response/>');
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const webhooks = client({ retries: 0 });
      const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/voice`;
      expect((await webhooks.request({ url })).ok).toBe(true);
      const again = await webhooks.request({ url });
      expect(again.ok).toBe(true);
      expect(connections).toBe(2);
    } finally {
      for (const socket of sockets) socket.destroy(); // the client keeps its socket for 4 s
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });
});
