/**
 * One TCP or TLS connection: frames inbound bytes into messages with the
 * StreamFramer (RFC 3261 §18.3), answers nothing itself but reports framing
 * errors and keep-alives to the sink, closes when idle, and refuses to
 * queue more than a bounded number of unsent bytes.
 */
import type { Socket } from 'node:net';
import { StreamFramer } from './stream-framer.js';
import type { WasmParser } from '../wasm/parser.js';
import type { AbiErrorInfo } from '../wasm/abi.js';
import {
  SENT, sendFailure,
  type Endpoint, type SendResult, type Source, type TransportProtocol, type TransportSink,
} from './transport.js';

/** Bytes of unframed data handed to `frameError` (enough for the headers of any sane message). */
export const FRAME_ERROR_HEAD_BYTES = 8192;
/** How long a connection that failed framing may take to flush its error response. */
const CLOSE_GRACE_MS = 2000;

/** Everything a connection needs from its transport. */
export interface StreamConnectionOptions {
  id: string;
  protocol: TransportProtocol;
  socket: Socket;
  parser: WasmParser;
  sink: TransportSink;
  local: Endpoint;
  remote: Endpoint;
  /** Close after this long without traffic in either direction. */
  idleTimeoutMs: number;
  /** Refuse writes while more than this many bytes wait in the socket. */
  maxWriteBufferBytes: number;
  /** Resolves when the socket can carry data (connect / TLS handshake done). */
  ready: Promise<SendResult>;
  /** Called once, when the socket has closed. */
  onClose(connection: StreamConnection): void;
}

/** A framed SIP connection. */
export class StreamConnection {
  /** Unique id (Source.connectionId). */
  readonly id: string;
  /** Remote address. */
  readonly remote: Endpoint;
  #o: StreamConnectionOptions;
  #framer: StreamFramer;
  #source: Source;
  #unframed: Uint8Array[] = [];
  #crlfRun = 0;
  #failed = false;
  #closed = false;

  /** @param options  socket, framing parser, sink and limits */
  constructor(options: StreamConnectionOptions) {
    this.#o = options;
    this.id = options.id;
    this.remote = options.remote;
    this.#framer = new StreamFramer(options.parser);
    this.#source = { transport: options.protocol, host: options.remote.host, port: options.remote.port, connectionId: options.id, local: options.local };
    const socket = options.socket;
    socket.setTimeout(options.idleTimeoutMs);
    socket.on('timeout', () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      options.onClose(this);
    });
    socket.on('data', (chunk: Buffer) => this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  /** True once the socket has closed or is closing after a framing error. */
  get closed(): boolean {
    return this.#closed || this.#failed;
  }

  #onData(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#framer.push(bytes);
    this.#unframed.push(bytes);
    for (;;) {
      const r = this.#framer.next();
      if (r.kind === 'need-more') return;
      if (r.kind === 'error') {
        this.#fail(r.error);
        return;
      }
      this.#consume(r.bytes.length);
      if (r.kind === 'keepalive') {
        // RFC 5626 §3.5.1: a CRLFCRLF ping (maybe split) is answered; a lone CRLF pong is not
        this.#crlfRun += r.bytes.length;
        if (this.#crlfRun >= 4) {
          this.#crlfRun = 0;
          this.#o.sink.keepAlive(this.#source);
        }
        continue;
      }
      this.#crlfRun = 0;
      this.#o.sink.message(r.bytes, this.#source, true);
    }
  }

  /** Forget the first `n` unframed bytes (they became a message). */
  #consume(n: number): void {
    while (n > 0) {
      const first = this.#unframed[0]!;
      if (first.length <= n) {
        this.#unframed.shift();
        n -= first.length;
      } else {
        this.#unframed[0] = first.subarray(n);
        n = 0;
      }
    }
  }

  #head(): Uint8Array {
    const head = new Uint8Array(Math.min(FRAME_ERROR_HEAD_BYTES, this.#unframed.reduce((n, c) => n + c.length, 0)));
    let at = 0;
    for (const chunk of this.#unframed) {
      if (at >= head.length) break;
      const part = chunk.subarray(0, head.length - at);
      head.set(part, at);
      at += part.length;
    }
    return head;
  }

  #fail(error: AbiErrorInfo): void {
    this.#failed = true;
    const socket = this.#o.socket;
    // keep reading (and discarding, see #onData) so the peer's FIN is seen and the socket closes promptly
    const reply = this.#o.sink.frameError(error, this.#head(), this.#source);
    this.#unframed = [];
    if (reply) socket.end(reply);
    else socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Write one message (after the connection is ready). Never rejects. */
  async write(bytes: Uint8Array): Promise<SendResult> {
    if (this.closed) return sendFailure('PB_ERR_TRANSPORT_CLOSED', `connection ${this.id} is closed`);
    const socket = this.#o.socket;
    if (socket.writableLength > this.#o.maxWriteBufferBytes) {
      return sendFailure('PB_ERR_TRANSPORT_BACKPRESSURE', `connection ${this.id} has ${socket.writableLength} unsent bytes`);
    }
    const ready = await this.#o.ready;
    if (!ready.ok) return ready;
    if (this.#closed) return sendFailure('PB_ERR_TRANSPORT_CLOSED', `connection ${this.id} is closed`);
    return new Promise((resolve) => {
      socket.write(bytes, (err) => {
        resolve(err ? sendFailure('PB_ERR_TRANSPORT_SEND', `write on ${this.id}: ${err.message}`, err) : SENT);
      });
    });
  }

  /** Close the connection now. */
  destroy(): void {
    this.#o.socket.destroy();
  }
}
