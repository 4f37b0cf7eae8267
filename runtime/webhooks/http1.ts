/**
 * A small HTTP/1.1 client with per-origin keep-alive pools, written for the
 * webhook client because node:http's per-request CPU cost dominated its
 * profile. Scope is deliberately narrow: one request at a time per socket
 * (no pipelining), the whole response body buffered and bounded, no HEAD, no
 * upgrades, no compression.
 *
 * - Pooling: per origin (scheme, host, port) an idle list used LIFO, at most
 *   `maxSockets` sockets open, further requests wait in a FIFO queue. Idle
 *   sockets are `unref()`ed and closed after `idleMs`; one a server closes
 *   while idle is dropped at once.
 * - Responses are parsed strictly and incrementally by `ResponseParser`
 *   (`http1-parser.ts`): bounded head, chunked / length / close-delimited
 *   bodies, a body over `maxBodyBytes` failing as soon as that is known.
 * - A socket is reused unless the parser says not to (`Connection: close`,
 *   HTTP/1.0, close-delimited body, …). Any failure destroys the socket.
 * - A request sent on a reused socket that closes or errors before any byte
 *   of the response arrived (the server timed the idle socket out while the
 *   request was on its way) is sent once more on a fresh connection.
 * - Every request has one deadline covering queueing, connecting, sending
 *   and reading the last body byte.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { PARSE_DONE, PARSE_ERROR, ResponseParser } from './http1-parser.js';

/** Settings of a pool. */
export interface Http1PoolOptions {
  /** Most sockets open to one origin at once (default 256); further requests queue. */
  readonly maxSockets?: number;
  /** An idle socket is closed after this long (default 4000 ms, below Node's 5 s server keep-alive). */
  readonly idleMs?: number;
  /** Largest response head (status line and headers), and separately trailers, in bytes (default 16 KiB). */
  readonly maxHeaderBytes?: number;
  /** TLS settings for `https:` origins, e.g. a private CA (tests). Certificates are always verified. */
  readonly tls?: { readonly ca?: string | Buffer | readonly (string | Buffer)[] };
}

/** One request. */
export interface Http1Request {
  /** Where to connect: only `protocol`, `hostname`, `port` and `host` are used. */
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  /** The request target: path and query, e.g. `/voice?x=1`. */
  readonly path: string;
  /** Headers besides `Host` and `Content-Length`, which the pool adds. */
  readonly headers: readonly (readonly [string, string])[];
  /** The body; `Content-Length` is sent for every POST. */
  readonly body?: Buffer;
  /** Deadline of the whole exchange, from `send` to the last body byte. */
  readonly timeoutMs: number;
  /** Largest body accepted, in bytes. */
  readonly maxBodyBytes: number;
}

/** A complete response. */
export interface Http1Response {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with `, `. */
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

/**
 * Why a request failed: `connection` (connect, DNS, TLS or a socket closed
 * early; `code` holds the Node error code, `ECONNRESET` for an early close),
 * `timeout`, `too-large` (the body limit) or `protocol` (a malformed response
 * or an unsendable request).
 */
export type Http1ErrorKind = 'connection' | 'timeout' | 'too-large' | 'protocol';

/** A failed request. */
export class Http1Error extends Error {
  override readonly name = 'Http1Error';
  readonly kind: Http1ErrorKind;
  /** The Node system error code of a `connection` failure (`ECONNREFUSED`, `ENOTFOUND`, …). */
  readonly code: string | undefined;

  constructor(kind: Http1ErrorKind, message: string, code?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.code = code;
  }
}

/** The outcome of a request. */
export type Http1Result = { ok: true; value: Http1Response } | { ok: false; error: Http1Error };

/** Told once when a request settles. Must not throw. */
export type Http1Callback = (result: Http1Result) => void;

/** The Node error code of a socket error, looking inside an AggregateError. */
function errorCode(error: Error | undefined): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const inner = (error as { errors?: { code?: unknown }[] } | undefined)?.errors?.[0]?.code;
  return typeof inner === 'string' ? inner : 'ECONNRESET';
}

/** Where every plain-TCP socket of this thread reads into (copied out at once, so one is enough). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** A request from `send` until it settles. */
class Exchange {
  timer: NodeJS.Timeout | undefined;
  conn: Connection | undefined = undefined;
  retried = false;
  settled = false;

  constructor(
    readonly origin: Origin,
    readonly wire: Buffer,
    readonly maxBodyBytes: number,
    readonly done: Http1Callback,
  ) {}

  /** Settle with `result` (once), stopping the deadline. */
  settle(result: Http1Result): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.done(result);
  }
}

/** The deadline of an exchange passed: destroy its socket or leave the queue. */
function onDeadline(ex: Exchange, ms: number): void {
  ex.timer = undefined;
  if (ex.settled) return;
  const conn = ex.conn;
  if (conn !== undefined) {
    conn.exchange = undefined;
    ex.conn = undefined;
    conn.discard();
    ex.origin.pump();
  }
  ex.settle({ ok: false, error: new Http1Error('timeout', `no complete response within ${ms} ms`) });
}

/** Sockets and waiting requests of one origin. */
class Origin {
  readonly idle: Connection[] = [];
  open = 0;
  readonly queue: (Exchange | undefined)[] = [];
  queueHead = 0;
  session: Buffer | undefined = undefined;

  constructor(
    readonly pool: Http1Pool,
    readonly secure: boolean,
    readonly host: string,
    readonly port: number,
    readonly hostHeader: string,
  ) {}

  /** Send `ex` on an idle socket, a new one, or queue it. */
  dispatch(ex: Exchange): void {
    const idle = this.idle.pop();
    if (idle !== undefined) {
      idle.isIdle = false;
      idle.socket.ref();
      idle.assign(ex);
    } else if (this.open < this.pool.maxSockets) {
      this.connect(ex);
    } else {
      this.queue.push(ex);
    }
  }

  /** Open a fresh socket for `ex`. */
  connect(ex: Exchange): void {
    let conn: Connection;
    try {
      conn = new Connection(this);
    } catch (cause) {
      // options the socket refuses at once (a bad CA, …): report like any connection failure
      const error = new Http1Error('connection', `cannot connect: ${String(cause)}`, errorCode(cause as Error), cause);
      process.nextTick(() => ex.settle({ ok: false, error }));
      return;
    }
    this.open++;
    conn.assign(ex);
  }

  /** A socket finished a response and may be reused: give it to the next waiting request, or park it. */
  release(conn: Connection): void {
    const next = this.nextWaiting();
    if (next !== undefined) {
      conn.assign(next);
      return;
    }
    conn.isIdle = true;
    conn.idleSince = performance.now();
    conn.socket.unref();
    this.idle.push(conn);
    this.pool.scheduleSweep();
  }

  /** Start waiting requests while sockets are available. */
  pump(): void {
    while (this.open < this.pool.maxSockets || this.idle.length > 0) {
      const next = this.nextWaiting();
      if (next === undefined) return;
      this.dispatch(next);
    }
  }

  /** Take the oldest queued request that has not timed out. */
  nextWaiting(): Exchange | undefined {
    const queue = this.queue;
    while (this.queueHead < queue.length) {
      const ex = queue[this.queueHead];
      queue[this.queueHead++] = undefined;
      if (this.queueHead === queue.length || (this.queueHead >= 1024 && this.queueHead * 2 >= queue.length)) {
        queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (ex !== undefined && !ex.settled) return ex;
    }
    return undefined;
  }

  /** `conn` is gone: out of the count and the idle list; an origin left with nothing is forgotten by the next sweep. */
  closed(conn: Connection): void {
    this.open--;
    if (conn.isIdle) {
      conn.isIdle = false;
      const at = this.idle.indexOf(conn);
      if (at !== -1) this.idle.splice(at, 1);
    }
    if (this.open === 0) this.pool.scheduleSweep();
  }
}

/** One socket, the exchange it carries and the parser of its response. */
class Connection {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  exchange: Exchange | undefined = undefined;
  isIdle = false;
  idleSince = 0;
  dead = false;
  /** Exchanges assigned so far; the current one is on a `reused` socket when this was not the first. */
  uses = 0;
  reused = false;
  /** Whether any byte of the current response has arrived. */
  gotBytes = false;
  error: Error | undefined = undefined;

  constructor(readonly origin: Origin) {
    let socket: Socket;
    if (origin.secure) {
      const tls: ConnectionOptions = { host: origin.host, port: origin.port, ca: origin.pool.ca, session: origin.session };
      if (isIP(origin.host) === 0) tls.servername = origin.host;
      socket = tlsConnect(tls);
      socket.on('session', (session: Buffer) => { origin.session = session; });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
    } else {
      // reads land in one shared buffer and reach onData as a small copy, without the stream's
      // per-read Buffer, push and 'data' event (a few µs of a webhook's ~100 µs exchange)
      socket = netConnect({ port: origin.port, host: origin.host, onread: { buffer: READ_BUFFER, callback: (n: number) => this.onRead(n) } });
    }
    socket.setNoDelay(true);
    this.socket = socket;
    this.parser = new ResponseParser(origin.pool.maxHeaderBytes);
    socket.on('end', () => this.onEnd());
    socket.on('error', (error: Error) => { this.error ??= error; });
    socket.on('close', () => this.onClose());
  }

  /** Send `ex` on this socket. */
  assign(ex: Exchange): void {
    this.reused = this.uses > 0;
    this.uses++;
    this.exchange = ex;
    ex.conn = this;
    this.gotBytes = false;
    this.parser.reset(ex.maxBodyBytes);
    this.socket.write(ex.wire);
  }

  /** Stop using the socket: out of the counts, destroyed. */
  discard(): void {
    if (this.dead) return;
    this.dead = true;
    this.origin.closed(this);
    this.socket.destroy();
  }

  /** `n` bytes arrived in `READ_BUFFER` (plain TCP): parse a copy, since the buffer is reused. */
  onRead(n: number): boolean {
    this.onData(Buffer.from(READ_BUFFER.subarray(0, n)));
    return true;
  }

  onData(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === undefined) {
      // bytes nobody asked for (on an idle socket): the connection is unusable
      this.discard();
      this.origin.pump();
      return;
    }
    this.gotBytes = true;
    const step = this.parser.feed(chunk);
    if (step === PARSE_DONE) this.complete(ex);
    else if (step === PARSE_ERROR) this.fail(ex, new Http1Error(this.parser.errorKind, this.parser.errorMessage));
  }

  onEnd(): void {
    if (this.exchange === undefined) {
      // the server closed an idle socket
      this.discard();
      this.origin.pump();
    } else if (this.parser.untilClose) {
      this.complete(this.exchange);
    } else {
      this.socket.destroy(); // 'close' decides: retry on a fresh socket or fail
    }
  }

  onClose(): void {
    if (!this.dead) {
      this.dead = true;
      this.origin.closed(this);
    }
    const ex = this.exchange;
    if (ex !== undefined) {
      if (this.parser.untilClose && this.error === undefined) {
        this.complete(ex);
      } else if (this.reused && !this.gotBytes && !ex.retried) {
        // a kept-alive socket the server had closed: once more on a fresh one (the slot just freed)
        this.exchange = undefined;
        ex.conn = undefined;
        ex.retried = true;
        this.origin.connect(ex);
      } else {
        const code = errorCode(this.error);
        const message = this.error?.message || `connection closed before the response was complete (${code})`;
        this.fail(ex, new Http1Error('connection', message, code, this.error));
      }
    }
    this.origin.pump();
  }

  /** The response is complete: hand the socket back (or drop it), then report. */
  complete(ex: Exchange): void {
    const parser = this.parser;
    const response: Http1Response = { status: parser.status, headers: parser.headers, body: parser.body() };
    this.exchange = undefined;
    ex.conn = undefined;
    if (parser.keepAlive && !this.dead && !this.origin.pool.closed) {
      this.origin.release(this);
    } else {
      this.discard();
      this.origin.pump();
    }
    ex.settle({ ok: true, value: response });
  }

  /** Fail the exchange and destroy the socket. */
  fail(ex: Exchange, error: Http1Error): void {
    this.exchange = undefined;
    ex.conn = undefined;
    this.discard();
    this.origin.pump();
    ex.settle({ ok: false, error });
  }
}

/** Keep-alive HTTP/1.1 connections to any number of origins. */
export class Http1Pool {
  readonly maxSockets: number;
  readonly idleMs: number;
  readonly maxHeaderBytes: number;
  readonly ca: string | Buffer | (string | Buffer)[] | undefined;
  closed = false;
  readonly #origins = new Map<string, Origin>();
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: Http1PoolOptions = {}) {
    this.maxSockets = Math.max(1, options.maxSockets ?? 256);
    this.idleMs = options.idleMs ?? 4000;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
    const ca = options.tls?.ca;
    this.ca = Array.isArray(ca) ? [...(ca as readonly (string | Buffer)[])] : (ca as string | Buffer | undefined);
  }

  /**
   * Send one request; `done` is told the outcome exactly once, never synchronously.
   * @param request - target, headers, body and limits.
   * @param done - receives the response or an `Http1Error`.
   */
  send(request: Http1Request, done: Http1Callback): void {
    const url = request.url;
    const key = url.origin;
    let origin = this.#origins.get(key);
    if (origin === undefined) {
      const secure = url.protocol === 'https:';
      const hostname = url.hostname;
      const host = hostname.charCodeAt(0) === 91 ? hostname.slice(1, -1) : hostname;
      const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
      origin = new Origin(this, secure, host, port, url.host);
      this.#origins.set(key, origin);
    }
    const wire = requestBytes(request, origin.hostHeader);
    if (typeof wire === 'string') {
      process.nextTick(done, { ok: false, error: new Http1Error('protocol', wire) });
      return;
    }
    const ex = new Exchange(origin, wire, request.maxBodyBytes, done);
    ex.timer = setTimeout(onDeadline, request.timeoutMs, ex, request.timeoutMs);
    origin.dispatch(ex);
  }

  /**
   * `send` as a promise.
   * @param request - target, headers, body and limits.
   * @return the response or an `Http1Error` (never rejects).
   */
  request(request: Http1Request): Promise<Http1Result> {
    return new Promise((resolve) => this.send(request, resolve));
  }

  /** Close idle sockets now and stop keeping sockets alive; requests in flight or queued still complete. */
  close(): void {
    this.closed = true;
    clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const origin of this.#origins.values()) {
      for (const conn of origin.idle.splice(0)) {
        conn.isIdle = false;
        conn.discard();
      }
    }
  }

  /** Sockets open to the origin of `url`, idle ones included (for tests and metrics). */
  openSockets(url: URL): number {
    return this.#origins.get(url.origin)?.open ?? 0;
  }

  /** Idle sockets kept for the origin of `url`. */
  idleSockets(url: URL): number {
    return this.#origins.get(url.origin)?.idle.length ?? 0;
  }

  /** Make sure a sweep of idle sockets is due (called when a socket goes idle). */
  scheduleSweep(): void {
    if (this.#sweepTimer !== undefined) return;
    this.#sweepTimer = setTimeout(this.#sweep, this.idleMs);
    this.#sweepTimer.unref();
  }

  /** Close sockets idle for `idleMs`; forget origins with nothing open; come back for the next expiry. */
  readonly #sweep = (): void => {
    // `#sweepTimer` stays set while sweeping: sockets closed here need no other sweep
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [key, origin] of this.#origins) {
      const idle = origin.idle;
      let expired = 0;
      while (expired < idle.length && now - idle[expired]!.idleSince >= this.idleMs - 1) expired++;
      for (const conn of idle.splice(0, expired)) {
        conn.isIdle = false;
        conn.discard();
      }
      if (idle.length > 0) next = Math.min(next, idle[0]!.idleSince + this.idleMs);
      if (origin.open === 0 && origin.queue.length === 0) this.#origins.delete(key);
    }
    this.#sweepTimer = undefined;
    if (next !== Number.POSITIVE_INFINITY) {
      this.#sweepTimer = setTimeout(this.#sweep, Math.max(1, Math.ceil(next - now)));
      this.#sweepTimer.unref();
    }
  };
}

/** Head and body of a request as one buffer, or why it cannot be sent. */
function requestBytes(request: Http1Request, hostHeader: string): Buffer | string {
  const path = request.path;
  if (path.length === 0 || path.indexOf(' ') !== -1 || path.indexOf('\r') !== -1 || path.indexOf('\n') !== -1) {
    return `invalid request target ${JSON.stringify(path)}`;
  }
  let head = `${request.method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\n`;
  for (const [name, value] of request.headers) {
    if (value.indexOf('\r') !== -1 || value.indexOf('\n') !== -1 || name.indexOf(':') !== -1 || name.indexOf('\r') !== -1 || name.indexOf('\n') !== -1) {
      return `invalid request header ${JSON.stringify(name)}`;
    }
    head += `${name}: ${value}\r\n`;
  }
  const body = request.body;
  if (request.method === 'POST' || (body !== undefined && body.length > 0)) head += `Content-Length: ${body?.length ?? 0}\r\n`;
  head += '\r\n';
  if (body === undefined || body.length === 0) return Buffer.from(head, 'latin1');
  const wire = Buffer.allocUnsafe(head.length + body.length);
  wire.write(head, 0, 'latin1');
  body.copy(wire, head.length);
  return wire;
}
