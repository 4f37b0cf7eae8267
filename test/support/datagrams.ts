/**
 * Helpers for the batched receive path: a transport the test injects
 * datagrams into (synchronous bursts, no sockets), a log of what a layer
 * delivered and answered, and a scripted stand-in for the pooled engine.
 */
import { TransportLayer, type TransportLayerOptions } from '../../runtime/transport/layer.js';
import { stampedVia } from '../../runtime/transport/via-routing.js';
import {
  SENT, type Destination, type Endpoint, type SendResult, type Source, type Transport, type TransportSink,
} from '../../runtime/transport/transport.js';
import { createInlineEngine, type BatchResult, type ParseEngine } from '../../runtime/wasm/engine.js';
import { bytesOf, parserFor } from './wasm.js';

const decoder = new TextDecoder();

/** A UDP stand-in: `inject` hands a datagram to the layer at once; sends go to `onSend`. */
export class InjectTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  readonly local: Endpoint = { host: '127.0.0.1', port: 5060 };
  readonly sentBy: Endpoint = this.local;
  onSend: (bytes: Uint8Array, destination: Destination) => void = () => undefined;
  #sink: TransportSink | undefined;

  attach(sink: TransportSink): void {
    this.#sink = sink;
  }

  listen(): Promise<Endpoint> {
    return Promise.resolve(this.local);
  }

  send(bytes: Uint8Array, destination: Destination): Promise<SendResult> {
    this.onSend(bytes, destination);
    return Promise.resolve(SENT);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Deliver one datagram from 127.0.0.1:`port` (or, with `stream`, a message framed from a stream). */
  inject(bytes: Uint8Array, port: number, stream = false): void {
    const source: Source = { transport: 'udp', host: '127.0.0.1', port, local: this.local };
    this.#sink!.message(bytes, source, stream);
  }
}

/** A layer over an {@link InjectTransport}, with one log line per delivery and per stateless answer. */
export interface LoggedLayer {
  layer: TransportLayer;
  transport: InjectTransport;
  log: string[];
}

/** @return a listening layer (release parser inline) whose deliveries and answers are logged in order. */
export async function loggedLayer(options: Omit<TransportLayerOptions, 'transports'> = {}): Promise<LoggedLayer> {
  const transport = new InjectTransport();
  const layer = new TransportLayer({ parser: parserFor('release'), ...options, transports: [transport] });
  const log: string[] = [];
  layer.onMessage((view, source, via) => {
    const what = view.isRequest ? view.method : String(view.statusCode);
    log.push(`in ${source.port} ${what} ${view.callId} h=${view.headerCount} b=${view.bodyLength} ${via ? stampedVia(via) : '-'}`);
  });
  transport.onSend = (bytes, destination) => {
    const text = decoder.decode(bytes);
    const warning = /\r\nWarning: ([^\r]*)/.exec(text)?.[1] ?? '';
    log.push(`out ${destination.port} ${text.slice(0, text.indexOf('\r\n'))} ${warning}`);
  };
  await layer.listen();
  return { layer, transport, log };
}

/** An INVITE with SDP, numbered, Via asking for rport from a sent-by that is not the source. */
export function invite(i: number): Uint8Array {
  const sdp = `v=0\r\no=- ${i} 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n`;
  return bytesOf(
    `INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-${i};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:alice@192.0.2.1>;tag=a${i}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: call-${i}\r\n` +
      `CSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1:5070>\r\nContent-Type: application/sdp\r\n` +
      `Content-Length: ${sdp.length}\r\n\r\n${sdp}`,
  );
}

/** A request whose CSeq method differs from its method: answered 400 with a Warning. */
export function badRequest(i: number): Uint8Array {
  return bytesOf(
    `OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-bad${i}\r\nFrom: <sip:a@h>;tag=1\r\n` +
      `To: <sip:b@h>\r\nCall-ID: bad-${i}\r\nCSeq: 1 INVITE\r\n\r\n`,
  );
}

/** One batch handed to {@link ScriptedPool}, settled by the test. */
export interface ScriptedCall {
  messages: readonly Uint8Array[];
  /** Parse it (inline) and resolve. */
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A ParseEngine of kind 'pool' whose batches wait until the test settles
 * them (parsed by an inline engine then), or are refused with `refuse`.
 */
export class ScriptedPool implements ParseEngine {
  readonly kind = 'pool' as const;
  readonly calls: ScriptedCall[] = [];
  /** When set, parseBatch rejects with it at once. */
  refuse: Error | undefined;
  /** Results released so far. */
  released = 0;
  #inline = createInlineEngine();

  parseBatch(messages: readonly Uint8Array[]): Promise<BatchResult> {
    if (this.refuse) return Promise.reject(this.refuse);
    return new Promise((resolve, reject) => {
      this.calls.push({ messages, resolve: () => resolve(this.#result(messages)), reject });
    });
  }

  #result(messages: readonly Uint8Array[]): BatchResult {
    const result = this.#inline.parseBatchSync(messages);
    return {
      get count() { return result.count; },
      status: (i) => result.status(i),
      view: (i) => result.view(i),
      release: () => {
        this.released++;
        result.release();
      },
    };
  }

  close(): Promise<void> {
    return this.#inline.close();
  }
}
