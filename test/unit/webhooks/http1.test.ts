import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Pool, type Http1Error, type Http1PoolOptions, type Http1Request, type Http1Response, type Http1Result } from '../../../runtime/webhooks/http1.js';
import { waitFor } from '../../support/sockets.js';
import { selfSignedPair } from '../../support/tls-cert.js';

const pools: Http1Pool[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
  for (const close of closers.splice(0)) await close();
});

function pool(options: Http1PoolOptions = {}): Http1Pool {
  const created = new Http1Pool(options);
  pools.push(created);
  return created;
}

function request(url: string, extra: Partial<Http1Request> = {}): Http1Request {
  const parsed = new URL(url);
  return { url: parsed, method: 'GET', path: parsed.pathname + parsed.search, headers: [], timeoutMs: 2000, maxBodyBytes: 64 * 1024, ...extra };
}

function expectOk(result: Http1Result): Http1Response {
  if (!result.ok) throw result.error;
  return result.value;
}

function expectError(result: Http1Result): Http1Error {
  if (result.ok) throw new Error(`expected a failure, got HTTP ${result.value.status}`);
  return result.error;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One connection accepted by a raw server. */
interface RawConnection {
  readonly socket: Socket;
  /** 0-based index of the connection on its server. */
  readonly index: number;
  /** Requests received on this connection so far (1 for the first). */
  requests: number;
}

interface RawServer {
  readonly base: string;
  readonly port: number;
  connections: number;
  /** Server-side sockets that have closed. */
  closed: number;
  /** Every request received, as latin1 text (head and body). */
  readonly received: string[];
}

/** A TCP server that splits incoming bytes into HTTP requests and lets `answer` write anything back. */
async function rawServer(answer: (conn: RawConnection, text: string) => void, host = '127.0.0.1'): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0, closed: 0, received: [] as string[] };
  const server: NetServer = createNetServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const conn: RawConnection = { socket, index: state.connections++, requests: 0 };
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = /\r\ncontent-length: *(\d+)/i.exec(pending.slice(0, end))?.[1];
        const total = end + 4 + Number(length ?? 0);
        if (pending.length < total) return;
        const text = pending.slice(0, total);
        pending = pending.slice(total);
        conn.requests++;
        state.received.push(text);
        answer(conn, text);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      state.closed++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return Object.assign(state, { base: `http://${hostPart}:${port}`, port }) as RawServer;
}

/** A node:http server answering every request with `handler`, counting connections. */
async function httpServer(handler: Parameters<typeof createHttpServer>[1]): Promise<{ base: string; server: HttpServer; connections: () => number }> {
  let connections = 0;
  const server = createHttpServer(handler);
  server.on('connection', () => { connections++; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, connections: () => connections };
}

const OK_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';

describe('requests and pooling (node:http server)', () => {
  it('sends Host, Content-Length for POST only, the given headers and body; reuses one connection', async () => {
    const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
    const { base, connections } = await httpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'Content-Type': 'text/xml', 'X-Twice': ['a', 'b'] });
        res.end('<Response/>');
      });
    });
    const http = pool();
    const body = Buffer.from('a=%C3%A9&b=2');
    const post = expectOk(await http.request(request(`${base}/voice?x=1`, { method: 'POST', body, headers: [['X-Test', 'one'], ['Content-Type', 'application/x-www-form-urlencoded']] })));
    expect(post.status).toBe(200);
    expect(post.body.toString()).toBe('<Response/>');
    expect(post.headers.get('content-type')).toBe('text/xml');
    expect(post.headers.get('x-twice')).toBe('a, b');
    const get = expectOk(await http.request(request(`${base}/status`)));
    expect(get.status).toBe(200);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /voice?x=1', 'GET /status']);
    expect(seen[0]!.headers).toMatchObject({ host: base.slice('http://'.length), 'content-length': String(body.length), 'x-test': 'one' });
    expect(seen[0]!.body).toBe('a=%C3%A9&b=2');
    expect(seen[1]!.headers['content-length']).toBeUndefined();
    expect(seen[1]!.headers['transfer-encoding']).toBeUndefined();
    expect(connections()).toBe(1);
    expect(http.idleSockets(new URL(base))).toBe(1);
  });

  it('queues beyond maxSockets (FIFO) and never opens more', async () => {
    const order: string[] = [];
    const { base, connections } = await httpServer((req, res) => {
      order.push(req.url ?? '');
      setTimeout(() => res.end('x'), 10);
    });
    const http = pool({ maxSockets: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => http.request(request(`${base}/${i}`))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(connections()).toBe(2);
    expect(order.slice(2).map((u) => Number(u.slice(1)))).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('does not reuse a connection after Connection: close', async () => {
    const { base, connections } = await httpServer((_req, res) => {
      res.setHeader('Connection', 'close');
      res.end('bye');
    });
    const http = pool();
    for (let i = 0; i < 3; i++) expect(expectOk(await http.request(request(`${base}/`))).body.toString()).toBe('bye');
    expect(connections()).toBe(3);
    expect(http.idleSockets(new URL(base))).toBe(0);
  });

  it('closes sockets idle for idleMs, and drops one the server closed', async () => {
    const { base } = await httpServer((_req, res) => res.end('x'));
    const http = pool({ idleMs: 100 });
    expectOk(await http.request(request(`${base}/`)));
    expect(http.openSockets(new URL(base))).toBe(1);
    await waitFor(() => http.openSockets(new URL(base)) === 0, 2000);
    const raw = await rawServer((conn) => {
      conn.socket.write(OK_RESPONSE);
      setTimeout(() => conn.socket.end(), 30); // the server's keep-alive timeout
    });
    const other = pool({ idleMs: 10_000 });
    expectOk(await other.request(request(`${raw.base}/`)));
    expect(other.idleSockets(new URL(raw.base))).toBe(1);
    await waitFor(() => other.openSockets(new URL(raw.base)) === 0, 2000);
    expect(other.idleSockets(new URL(raw.base))).toBe(0);
    expect(expectOk(await other.request(request(`${raw.base}/`))).body.toString()).toBe('ok');
    expect(raw.connections).toBe(2);
  });

  it('keeps idle sockets unref()ed so the process can exit, busy ones ref()ed', async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
    let answer: (() => void) | undefined;
    const raw = await rawServer((conn) => { answer = () => conn.socket.write(OK_RESPONSE); });
    await delay(20); // sockets of earlier tests finish closing
    const http = pool();
    const pending = http.request(request(`${raw.base}/`));
    await waitFor(() => answer !== undefined);
    const busy = sockets();
    answer!();
    expectOk(await pending);
    expect(http.idleSockets(new URL(raw.base))).toBe(1);
    expect(busy - sockets()).toBe(1); // ours stopped counting; the server's side still does
  });

  it('refuses a request header containing CR or LF without sending anything', async () => {
    const raw = await rawServer((conn) => conn.socket.write(OK_RESPONSE));
    const error = expectError(await pool().request(request(`${raw.base}/`, { headers: [['User-Agent', 'x\r\nInjected: 1']] })));
    expect(error.kind).toBe('protocol');
    expect(raw.received).toHaveLength(0);
  });
});

describe('response framing (raw server)', () => {
  it('reads a chunked body split across writes, with extensions and trailers, and reuses the socket', async () => {
    const raw = await rawServer((conn) => {
      const parts = [
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n',
        '5;name=value\r\nhel', 'lo\r\n', '1 ; ext\r\n,\r\n', '6\r\n world\r\n',
        '0\r\nX-Sum: 12\r\nX-Other: y\r\n', '\r\n',
      ];
      void (async () => {
        for (const part of parts) {
          conn.socket.write(part);
          await delay(5);
        }
      })();
    });
    const http = pool();
    for (let i = 0; i < 2; i++) {
      const response = expectOk(await http.request(request(`${raw.base}/c`)));
      expect(response.body.toString()).toBe('hello, world');
      expect(response.headers.has('x-sum')).toBe(false);
    }
    expect(raw.connections).toBe(1);
  });

  it('reads a close-delimited body and does not reuse that socket', async () => {
    const raw = await rawServer((conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<Resp');
      setTimeout(() => conn.socket.end('onse/>'), 10);
    });
    const http = pool();
    expect(expectOk(await http.request(request(`${raw.base}/`))).body.toString()).toBe('<Response/>');
    expect(expectOk(await http.request(request(`${raw.base}/`))).body.toString()).toBe('<Response/>');
    expect(raw.connections).toBe(2);
    expect(http.openSockets(new URL(raw.base))).toBe(0);
  });

  it('skips 100 Continue (and 103) before the final response', async () => {
    const raw = await rawServer((conn) => {
      conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      setTimeout(() => conn.socket.write(`HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK_RESPONSE}`), 5);
    });
    const response = expectOk(await pool().request(request(`${raw.base}/`)));
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(response.headers.has('link')).toBe(false);
  });

  it('reads 204 and 304 without a body and keeps the socket', async () => {
    const raw = await rawServer((conn) => {
      conn.socket.write(conn.requests === 1 ? 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n' : conn.requests === 2 ? 'HTTP/1.1 304 Not Modified\r\n\r\n' : OK_RESPONSE);
    });
    const http = pool();
    const first = expectOk(await http.request(request(`${raw.base}/`)));
    expect([first.status, first.body.length]).toEqual([204, 0]);
    const second = expectOk(await http.request(request(`${raw.base}/`)));
    expect([second.status, second.body.length]).toEqual([304, 0]);
    expect(expectOk(await http.request(request(`${raw.base}/`))).body.toString()).toBe('ok');
    expect(raw.connections).toBe(1);
  });

  it('reads a response written one byte at a time', async () => {
    const text = 'HTTP/1.1 201 Created\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n';
    const raw = await rawServer((conn) => {
      void (async () => {
        for (const byte of text) {
          conn.socket.write(byte);
          await delay(1);
        }
      })();
    });
    const http = pool();
    const response = expectOk(await http.request(request(`${raw.base}/`)));
    expect([response.status, response.headers.get('x-a'), response.body.toString()]).toEqual([201, '1', 'abcde']);
    expect(http.idleSockets(new URL(raw.base))).toBe(1);
  });

  it('treats HTTP/1.0 without keep-alive as not reusable, with keep-alive as reusable', async () => {
    const raw = await rawServer((conn) => {
      conn.socket.write(conn.index === 0 ? 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok' : 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok');
    });
    const http = pool();
    expectOk(await http.request(request(`${raw.base}/`)));
    expect(http.openSockets(new URL(raw.base))).toBe(0);
    expectOk(await http.request(request(`${raw.base}/`)));
    expectOk(await http.request(request(`${raw.base}/`)));
    expect(raw.connections).toBe(2);
  });

  it('does not reuse a socket that sent bytes after the response', async () => {
    const raw = await rawServer((conn) => conn.socket.write(`${OK_RESPONSE}HTTP/1.1 200 OK\r\n`));
    const http = pool();
    expect(expectOk(await http.request(request(`${raw.base}/`))).body.toString()).toBe('ok');
    expect(http.openSockets(new URL(raw.base))).toBe(0);
  });
});

describe('malformed and oversized responses', () => {
  const malformed: [string, string][] = [
    ['a non-numeric status', 'HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n'],
    ['another protocol', 'ICY 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['HTTP/2 text', 'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a status without a separator', 'HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n'],
    ['bare LF line endings', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n'],
    ['a header without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n'],
    ['a folded header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 0\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n'],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'],
    ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n'],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n'],
  ];
  for (const [name, text] of malformed) {
    it(`fails on ${name} and destroys the socket`, async () => {
      const raw = await rawServer((conn) => conn.socket.write(text));
      const http = pool();
      const error = expectError(await http.request(request(`${raw.base}/`)));
      expect(error.kind).toBe('protocol');
      expect(http.openSockets(new URL(raw.base))).toBe(0);
      await waitFor(() => raw.closed === 1, 2000);
    });
  }

  it('fails when the head exceeds maxHeaderBytes, even before it ends', async () => {
    const raw = await rawServer((conn) => conn.socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(3000)}\r\n`));
    const http = pool({ maxHeaderBytes: 1024 });
    const error = expectError(await http.request(request(`${raw.base}/`)));
    expect(error.kind).toBe('protocol');
    expect(error.message).toContain('1024');
    await waitFor(() => raw.closed === 1, 2000);
  });

  it('accepts a head just under maxHeaderBytes', async () => {
    const head = `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(900)}\r\nContent-Length: 2\r\n\r\n`;
    const raw = await rawServer((conn) => conn.socket.write(`${head}ok`));
    expect(head.length).toBeLessThan(1024);
    expect(expectOk(await pool({ maxHeaderBytes: 1024 }).request(request(`${raw.base}/`))).body.toString()).toBe('ok');
  });

  it('fails a body over maxBodyBytes: declared at once, chunked and close-delimited when the sum exceeds', async () => {
    const raw = await rawServer((conn, text) => {
      const path = text.slice(4, text.indexOf(' ', 4));
      if (path === '/declared') conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n'); // the body never comes
      else if (path === '/chunked') {
        conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let i = 0; i < 5; i++) conn.socket.write(`1e\r\n${'c'.repeat(30)}\r\n`);
      } else conn.socket.write(`HTTP/1.1 200 OK\r\n\r\n${'u'.repeat(150)}`);
    });
    const http = pool();
    for (const path of ['/declared', '/chunked', '/until-close']) {
      const started = Date.now();
      const error = expectError(await http.request(request(`${raw.base}${path}`, { maxBodyBytes: 100 })));
      expect(error.kind).toBe('too-large');
      expect(Date.now() - started).toBeLessThan(1000);
    }
    await waitFor(() => raw.closed === 3, 2000);
    expect(http.openSockets(new URL(raw.base))).toBe(0);
  });

  it('accepts a body of exactly maxBodyBytes in every framing', async () => {
    const raw = await rawServer((conn) => {
      if (conn.index === 0) conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'a'.repeat(100)}`);
      else if (conn.index === 1) conn.socket.write(`HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n${'b'.repeat(50)}\r\n32\r\n${'b'.repeat(50)}\r\n0\r\n\r\n`);
      else conn.socket.end(`HTTP/1.1 200 OK\r\n\r\n${'c'.repeat(100)}`);
    });
    const http = pool();
    for (const letter of ['a', 'b', 'c']) {
      const response = expectOk(await http.request(request(`${raw.base}/`, { maxBodyBytes: 100 })));
      expect(response.body.toString()).toBe(letter.repeat(100));
      http.close(); // next request on a new connection
    }
  });
});

describe('connection failures, retries and timeouts', () => {
  it('retries once on a fresh connection when a reused socket closes before answering', async () => {
    const raw = await rawServer((conn) => {
      if (conn.requests === 2) conn.socket.destroy(); // the server gave up on the idle socket as the request arrived
      else conn.socket.write(OK_RESPONSE);
    });
    const http = pool();
    expectOk(await http.request(request(`${raw.base}/one`)));
    const again = expectOk(await http.request(request(`${raw.base}/two`, { method: 'POST', body: Buffer.from('x=1') })));
    expect(again.body.toString()).toBe('ok');
    expect(raw.connections).toBe(2);
    expect(raw.received.filter((text) => text.startsWith('POST /two'))).toHaveLength(2);
  });

  it('does not retry a fresh connection closed before answering, nor a reused one after response bytes', async () => {
    const raw = await rawServer((conn) => {
      if (conn.index === 0) conn.socket.destroy();
      else if (conn.requests === 1) conn.socket.write(OK_RESPONSE);
      else {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
        setTimeout(() => conn.socket.destroy(), 10);
      }
    });
    const http = pool();
    const fresh = expectError(await http.request(request(`${raw.base}/`)));
    expect([fresh.kind, fresh.code]).toEqual(['connection', 'ECONNRESET']);
    expect(raw.connections).toBe(1);
    expectOk(await http.request(request(`${raw.base}/`)));
    const truncated = expectError(await http.request(request(`${raw.base}/`)));
    expect([truncated.kind, truncated.code]).toEqual(['connection', 'ECONNRESET']);
    expect(raw.connections).toBe(2);
  });

  it('reports ECONNREFUSED', async () => {
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const http = pool();
    const error = expectError(await http.request(request(`http://127.0.0.1:${port}/`)));
    expect([error.kind, error.code]).toEqual(['connection', 'ECONNREFUSED']);
    expect(http.openSockets(new URL(`http://127.0.0.1:${port}/`))).toBe(0);
  });

  it('reports ENOTFOUND for a name that does not resolve', async () => {
    const error = expectError(await pool().request(request('http://host.invalid/')));
    expect(error.kind).toBe('connection');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(error.code);
  });

  it('times out against a server that never answers, destroys the socket, and stays usable', async () => {
    const raw = await rawServer((conn) => {
      if (conn.index > 0) conn.socket.write(OK_RESPONSE);
    });
    const http = pool({ maxSockets: 1 });
    const started = Date.now();
    const [slow, queued] = await Promise.all([
      http.request(request(`${raw.base}/slow`, { timeoutMs: 150 })),
      http.request(request(`${raw.base}/queued`, { timeoutMs: 100 })),
    ]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(expectError(slow).kind).toBe('timeout');
    expect(expectError(queued).kind).toBe('timeout');
    await waitFor(() => raw.closed === 1, 2000);
    expect(http.openSockets(new URL(raw.base))).toBe(0);
    expect(expectOk(await http.request(request(`${raw.base}/after`))).body.toString()).toBe('ok');
    expect(raw.received.map((text) => text.split(' ')[1])).toEqual(['/slow', '/after']);
  });

  it('times out a body that stops arriving', async () => {
    const raw = await rawServer((conn) => conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const error = expectError(await pool().request(request(`${raw.base}/`, { timeoutMs: 100 })));
    expect(error.kind).toBe('timeout');
    await waitFor(() => raw.closed === 1, 2000);
  });
});

describe('TLS and IPv6', () => {
  it('speaks https with servername and certificate verification', async () => {
    const pair = selfSignedPair();
    const servernames: unknown[] = [];
    const server = createHttpsServer({ cert: pair.cert, key: pair.key }, (req, res) => res.end(`secure ${req.url}`));
    server.on('secureConnection', (socket: { servername?: unknown }) => servernames.push(socket.servername));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const http = pool({ tls: { ca: pair.cert } });
    expect(expectOk(await http.request(request(`https://localhost:${port}/a`))).body.toString()).toBe('secure /a');
    expect(expectOk(await http.request(request(`https://localhost:${port}/b`))).body.toString()).toBe('secure /b');
    expect(expectOk(await http.request(request(`https://127.0.0.1:${port}/c`))).body.toString()).toBe('secure /c');
    expect(servernames).toEqual(['localhost', false]);
    const untrusting = expectError(await pool().request(request(`https://localhost:${port}/`)));
    expect(untrusting.kind).toBe('connection');
    expect(untrusting.code).toMatch(/CERT|SIGNED/);
  });

  it('connects to an IPv6 literal with a bracketed Host header', async (context) => {
    let raw: RawServer;
    try {
      raw = await rawServer((conn) => conn.socket.write(OK_RESPONSE), '::1');
    } catch {
      context.skip();
      return;
    }
    const response = expectOk(await pool().request(request(`${raw.base}/six`)));
    expect(response.body.toString()).toBe('ok');
    expect(raw.received[0]).toContain(`\r\nHost: [::1]:${raw.port}\r\n`);
  });
});
