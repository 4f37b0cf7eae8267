/**
 * One TCP or TLS connection: frames inbound bytes into messages with the
 * StreamFramer (RFC 3261 §18.3), answers nothing itself but reports framing
 * errors and keep-alives to the sink, and refuses to queue more than a
 * bounded number of unsent bytes.
 *
 * Two clocks bound how long a peer may hold it: the idle timeout runs from
 * the last complete message (or keep-alive) in either direction, and once
 * the first byte of a message has arrived the whole message must arrive
 * within the message timeout (Kamailio's `tcp_msg_read_timeout`, 20 s by
 * default, does the same). Bytes of an unfinished message reset neither, so
 * a peer trickling one byte at a time is closed at the message timeout.
 */
import type { Socket } from 'node:net';
import { StreamFramer } from './stream-framer.js';
import type { Clock, TimerHandle } from './clock.js';
import type { WasmParser } from '../wasm/parser.js';
import type { AbiErrorInfo } from '../wasm/abi.js';
import {
  SENT, sendFailure,
  type Endpoint, type SendResult, type Source, type TransportProtocol, type TransportSink,
} from './transport.js';

/** Bytes of unframed data handed to `frameError` (enough for the headers of any sane message). */
export const FRAME_ERROR_HEAD_BYTES = 8192;
/** How long a connection that failed framing may take to flush its error response (a peer that does not read). */
const CLOSE_GRACE_MS = 2000;

/** Why a connection closed itself. */
export type StreamCloseReason = 'idle' | 'message-timeout' | 'frame-error';

/** Everything a connection needs from its transport. */
export interface StreamConnectionOptions {
  id: string;
  protocol: TransportProtocol;
  socket: Socket;
  parser: WasmParser;
  sink: TransportSink;
  local: Endpoint;
  remote: Endpoint;
  /** Close after this long without a complete message (or keep-alive) in either direction. */
  idleTimeoutMs: number;
  /** Close when a message is not complete this long after its first byte. */
  messageTimeoutMs: number;
  /** Timers of the two timeouts and the close grace. */
  clock: Clock;
  /** Refuse writes while more than this many bytes wait in the socket. */
  maxWriteBufferBytes: number;
  /** Resolves when the socket can carry data (connect / TLS handshake done). */
  ready: Promise<SendResult>;
  /** Called once, when the socket has closed; `reason` when the connection closed itself. */
  onClose(connection: StreamConnection, reason: StreamCloseReason | undefined): void;
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
  #closeReason: StreamCloseReason | undefined;
  /** clock.now() of the last complete message or keep-alive, in or out. */
  #lastActivity: number;
  /** clock.now() when the first byte of the unfinished message arrived; -1 when none is unfinished. */
  #messageStart = -1;
  // Both timers are lazy (STYLE: nothing allocated per message): activity only moves a due time
  // later, so a timer that fires early re-arms itself for the rest; at most one per period.
  #idleTimer: TimerHandle | undefined;
  #messageTimer: TimerHandle | undefined;
  #graceTimer: TimerHandle | undefined;

  /** @param options  socket, framing parser, sink and limits */
  constructor(options: StreamConnectionOptions) {
    this.#o = options;
    this.id = options.id;
    this.remote = options.remote;
    this.#framer = new StreamFramer(options.parser);
    this.#source = { transport: options.protocol, host: options.remote.host, port: options.remote.port, connectionId: options.id, local: options.local };
    const socket = options.socket;
    this.#lastActivity = options.clock.now();
    this.#idleTimer = options.clock.setTimeout(() => this.#onIdleTimer(), options.idleTimeoutMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      const clock = this.#o.clock;
      clock.clearTimeout(this.#idleTimer);
      clock.clearTimeout(this.#messageTimer);
      clock.clearTimeout(this.#graceTimer);
      options.onClose(this, this.#closeReason);
    });
    socket.on('data', (chunk: Buffer) => this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  }

  /** True once the socket has closed or is closing after a framing error. */
  get closed(): boolean {
    return this.#closed || this.#failed;
  }

  /** Bytes received and not yet framed (the start of an unfinished message). */
  get bufferedBytes(): number {
    return this.#framer.buffered;
  }

  /** Close for `reason` (a timeout). */
  #expire(reason: StreamCloseReason): void {
    this.#closeReason ??= reason;
    this.#o.socket.destroy();
  }

  #onIdleTimer(): void {
    this.#idleTimer = undefined;
    if (this.#closed) return;
    const { clock, idleTimeoutMs } = this.#o;
    // while a message is unfinished the message timeout governs; look again a whole period later
    const left = this.#messageStart >= 0 ? idleTimeoutMs : this.#lastActivity + idleTimeoutMs - clock.now();
    if (left <= 0) this.#expire('idle');
    else this.#idleTimer = clock.setTimeout(() => this.#onIdleTimer(), left);
  }

  #onMessageTimer(): void {
    this.#messageTimer = undefined;
    if (this.#closed || this.#messageStart < 0) return;
    const { clock, messageTimeoutMs } = this.#o;
    const left = this.#messageStart + messageTimeoutMs - clock.now();
    if (left <= 0) this.#expire('message-timeout');
    else this.#messageTimer = clock.setTimeout(() => this.#onMessageTimer(), left);
  }

  /** A complete message or keep-alive went in or out. */
  #active(): void {
    this.#lastActivity = this.#o.clock.now();
  }

  #onData(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#framer.push(bytes);
    this.#unframed.push(bytes);
    for (;;) {
      const r = this.#framer.next();
      if (r.kind === 'need-more') {
        this.#startMessage();
        return;
      }
      if (r.kind === 'error') {
        this.#fail(r.error);
        return;
      }
      this.#messageStart = -1;
      this.#active();
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

  /** After a read: start the message timeout when unframed bytes began a message. */
  #startMessage(): void {
    if (this.#framer.buffered === 0 || this.#messageStart >= 0) return;
    const { clock, messageTimeoutMs } = this.#o;
    this.#messageStart = clock.now();
    this.#messageTimer ??= clock.setTimeout(() => this.#onMessageTimer(), messageTimeoutMs);
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

  /**
   * The stream cannot be framed (e.g. 513, a message over the size limit):
   * write the error response and close as soon as it is flushed. Nothing
   * more is read: whatever the peer still sends is discarded by the close.
   * The grace only bounds a peer that does not read the response.
   */
  #fail(error: AbiErrorInfo): void {
    this.#failed = true;
    this.#closeReason = 'frame-error';
    const socket = this.#o.socket;
    const reply = this.#o.sink.frameError(error, this.#head(), this.#source);
    this.#unframed = [];
    const close = (): void => { socket.destroy(); };
    if (reply) socket.end(reply, close);
    else socket.end(close);
    this.#graceTimer = this.#o.clock.setTimeout(close, CLOSE_GRACE_MS);
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
    this.#active();
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
