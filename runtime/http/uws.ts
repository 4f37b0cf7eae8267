/**
 * The uWebSockets.js addon and the small helpers every handler shares.
 * uWS rules (uWebSockets.js's documentation): `HttpRequest` is only valid during the callback,
 * so copy what you need before any `await`; a response that is not answered
 * at once must have `onAborted`; writes after an `await` go in `res.cork`.
 */
import { createRequire } from 'node:module';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';

const require = createRequire(import.meta.url);
/** The native addon (CommonJS). */
export const uws = require('uWebSockets.js') as typeof import('uWebSockets.js');

export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';

/** Extra headers of a response. */
export type Headers = ReadonlyArray<readonly [string, string]>;

/**
 * A response that may be answered later: it tracks whether the client went
 * away and whether an answer was written, so late writes are dropped
 * instead of touching a dead `HttpResponse`.
 */
export class Reply {
  readonly res: HttpResponse;
  /** The client closed the connection before the answer. */
  aborted = false;
  /** An answer was written. */
  done = false;
  #onAbort: Array<() => void> = [];

  /** Registers `onAborted`: create it synchronously in the handler, before any `await` or `onData`. */
  constructor(res: HttpResponse) {
    this.res = res;
    res.onAborted(() => {
      this.aborted = true;
      for (const f of this.#onAbort) f();
    });
  }

  /** Run `f` if the client goes away. */
  onAbort(f: () => void): void {
    this.#onAbort.push(f);
  }

  /**
   * Write a whole response once (corked), unless the client has gone or an
   * answer was already written.
   * @param close - ask uWS to close the connection after the response
   */
  send(status: string, contentType: string, body: string, headers: Headers = [], close = false): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.cork(() => {
      this.res.writeStatus(status).writeHeader('Content-Type', contentType);
      for (const [name, value] of headers) this.res.writeHeader(name, value);
      this.res.end(body, close);
    });
  }

  /** `send` with a JSON body. */
  json(status: string, body: unknown, headers: Headers = [], close = false): void {
    this.send(status, 'application/json; charset=utf-8', JSON.stringify(body), headers, close);
  }
}

/** Close every listener and connection of an app (`app.close()`, in uWS ≥ 20.30 but not in its typings). */
export function closeApp(app: TemplatedApp): void {
  (app as TemplatedApp & { close(): void }).close();
}
