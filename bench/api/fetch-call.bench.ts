/**
 * api/fetch-call: `GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`
 * requests per second over loopback, Basic auth checked on every request.
 * The server (runtime/http, uWebSockets.js) runs in a worker thread with
 * 10 000 completed calls in its store (api-server.ts); the client runs here.
 *
 * - `raw socket, 1 in flight` (reference): one keep-alive connection, the
 *   next request sent when the previous response is complete: latency-bound.
 * - `raw socket, 4 conns × 16 pipelined`: 64 requests in flight; ops/s is
 *   requests per second the server sustains.
 * - `fetch (undici), 1 in flight`: what a Node client using global fetch
 *   sees; the client's own cost dominates.
 */
import { connect, type Socket } from 'node:net';
import type { BenchSuite } from '../lib/types.js';
import { startBenchWorker, type BenchWorker } from '../lib/worker.js';

/** What the worker posts once listening. */
interface ServerInfo {
  port: number;
  sid: string;
  accountSid: string;
  authToken: string;
}

/** A keep-alive HTTP/1.1 connection that sends requests and counts complete responses. */
class RawConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting = 0;
  #done: (() => void) | undefined;
  #fail: ((e: Error) => void) | undefined;
  /** Status line of the last response (checked in setup). */
  lastStatus = '';
  lastBody = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => this.#fail?.(e));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Send `request` `count` times back to back; resolves when every response has arrived. */
  send(request: Buffer, count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting = count;
      this.#done = resolve;
      this.#fail = reject;
      this.#socket.write(count === 1 ? request : Buffer.concat(Array.from({ length: count }, () => request)));
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.#buffer.length < end + 4 + length) return;
      this.lastStatus = head.slice(0, head.indexOf('\r\n'));
      this.lastBody = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      this.#buffer = this.#buffer.subarray(end + 4 + length);
      if (--this.#waiting === 0) this.#done?.();
    }
  }
}

const PIPELINE = 16;
const CONNECTIONS = 4;

export function register(): BenchSuite[] {
  let worker: BenchWorker<ServerInfo> | undefined;
  let connections: RawConnection[] = [];
  const suite: BenchSuite = {
    name: 'api/fetch-call',
    baselineLabel: 'raw socket, 1 request in flight',
    tasks: [],
    async setup() {
      worker = await startBenchWorker<ServerInfo>(new URL('./api-server.js', import.meta.url));
      const info = worker.info;
      const path = `/2010-04-01/Accounts/${info.accountSid}/Calls/${info.sid}.json`;
      const authorization = `Basic ${Buffer.from(`${info.accountSid}:${info.authToken}`).toString('base64')}`;
      const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nAccept: application/json\r\n\r\n`, 'latin1');
      connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawConnection.open(info.port)));
      const first = connections[0]!;
      await first.send(request, 1);
      if (!first.lastStatus.includes(' 200 ') || !first.lastBody.includes(info.sid)) throw new Error(`unexpected answer: ${first.lastStatus} ${first.lastBody.slice(0, 200)}`);
      const url = `http://127.0.0.1:${info.port}${path}`;
      const headers = { Authorization: authorization, Accept: 'application/json' };
      suite.tasks = [
        { name: 'raw socket, 1 in flight', fn: () => first.send(request, 1), reference: true },
        {
          name: `raw socket, ${CONNECTIONS} conns × ${PIPELINE} pipelined`,
          fn: () => Promise.all(connections.map((c) => c.send(request, PIPELINE))),
          opsPerCall: CONNECTIONS * PIPELINE,
        },
        {
          name: 'fetch (undici), 1 in flight',
          fn: async () => {
            const res = await fetch(url, { headers });
            await res.arrayBuffer();
          },
        },
      ];
    },
    async teardown() {
      for (const c of connections) c.close();
      connections = [];
      await worker?.stop();
      worker = undefined;
    },
  };
  return [suite];
}
