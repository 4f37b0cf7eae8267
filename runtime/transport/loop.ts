/**
 * In-memory loop transport for tests (after pjsip's
 * sip_transport_loop.h): transports bound to addresses on one LoopNetwork
 * deliver to each other without sockets. Knobs per transport: discard
 * (the next n messages, or those a predicate picks), delay (on the
 * injected clock), failure (sends report a transport error). Every send is
 * recorded for assertions on retransmission schedules.
 */
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import {
  SENT, sendFailure,
  type Destination, type Endpoint, type SendResult, type Transport, type TransportSink,
} from './transport.js';

/** One message a loop transport was asked to send. */
export interface LoopSendRecord {
  /** Clock time of the send. */
  at: number;
  /** The bytes. */
  bytes: Uint8Array;
  /** Where it went. */
  destination: Destination;
  /** False when it was discarded, failed, or nobody listens at the destination. */
  delivered: boolean;
}

/** Options of {@link LoopNetwork.transport}. */
export interface LoopTransportOptions {
  /** Address (default 127.0.0.1). */
  host?: string;
  /** Port (default: the next free one from 5060 up). */
  port?: number;
  /** Which protocol it stands in for: 'udp' (unreliable, default) or 'tcp' (reliable). */
  protocol?: 'udp' | 'tcp';
}

/** Predicate of {@link LoopTransport.discardWhen}. */
export type DiscardPredicate = (bytes: Uint8Array, destination: Destination) => boolean;

/** A set of loop transports that can reach each other. */
export class LoopNetwork {
  #clock: Clock;
  #bound = new Map<string, LoopTransport>();
  #nextPort = 5060;

  /** @param options  the clock that delays run on (default: the system clock) */
  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** The network's clock. */
  get clock(): Clock {
    return this.#clock;
  }

  /** Create a transport on this network (bound by `listen`). */
  transport(options: LoopTransportOptions = {}): LoopTransport {
    return new LoopTransport(this, options.host ?? '127.0.0.1', options.port ?? this.#nextPort++, options.protocol ?? 'udp');
  }

  /** @internal bind a transport's address. */
  bind(transport: LoopTransport): void {
    this.#bound.set(`${transport.local.host}|${transport.local.port}`, transport);
  }

  /** @internal unbind a transport's address. */
  unbind(transport: LoopTransport): void {
    const key = `${transport.local.host}|${transport.local.port}`;
    if (this.#bound.get(key) === transport) this.#bound.delete(key);
  }

  /** @internal the transport bound at `destination`, when its protocol matches. */
  lookup(destination: Destination): LoopTransport | undefined {
    const t = this.#bound.get(`${destination.host}|${destination.port}`);
    return t && t.protocol === destination.transport ? t : undefined;
  }
}

/** One loop transport. */
export class LoopTransport implements Transport {
  /** The protocol it stands in for. */
  readonly protocol: 'udp' | 'tcp';
  /** True when standing in for TCP. */
  readonly reliable: boolean;
  /** Every send, in order. */
  readonly sent: LoopSendRecord[] = [];
  #network: LoopNetwork;
  #local: Endpoint;
  #sink: TransportSink | undefined;
  #listening = false;
  #discardCount = 0;
  #discardWhen: DiscardPredicate | undefined;
  #delayMs = 0;
  #failing = false;

  /** Use {@link LoopNetwork.transport}. */
  constructor(network: LoopNetwork, host: string, port: number, protocol: 'udp' | 'tcp') {
    this.#network = network;
    this.#local = { host, port };
    this.protocol = protocol;
    this.reliable = protocol === 'tcp';
  }

  /** The bound address. */
  get local(): Endpoint {
    return this.#local;
  }

  /** Same as `local`. */
  get sentBy(): Endpoint {
    return this.#local;
  }

  /** Set the receiver. */
  attach(sink: TransportSink): void {
    this.#sink = sink;
  }

  /** Bind on the network. */
  listen(): Promise<Endpoint> {
    this.#network.bind(this);
    this.#listening = true;
    return Promise.resolve(this.#local);
  }

  /** Drop the next `count` outgoing messages (they still count as sent). */
  discardNext(count: number): void {
    this.#discardCount = count;
  }

  /** Drop every outgoing message `predicate` returns true for (undefined: stop). */
  discardWhen(predicate: DiscardPredicate | undefined): void {
    this.#discardWhen = predicate;
  }

  /** Deliver outgoing messages after `ms` of the network's clock (0: on the next microtask). */
  setDelay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Make every send fail with a transport error (true) or work again (false). */
  setFailure(failing: boolean): void {
    this.#failing = failing;
  }

  /** Send to the loop transport bound at `destination`. */
  send(bytes: Uint8Array, destination: Destination): Promise<SendResult> {
    const record: LoopSendRecord = { at: this.#network.clock.now(), bytes, destination, delivered: false };
    this.sent.push(record);
    if (!this.#listening) return Promise.resolve(sendFailure('PB_ERR_TRANSPORT_CLOSED', 'loop transport is closed'));
    if (this.#failing) return Promise.resolve(sendFailure('PB_ERR_TRANSPORT_SEND', 'loop transport set to fail'));
    const peer = this.#network.lookup(destination);
    if (!peer) {
      // a datagram to nowhere is lost silently; a stream cannot connect
      return Promise.resolve(this.reliable ? sendFailure('PB_ERR_TRANSPORT_CONNECT', `nothing listens at ${destination.host}:${destination.port}`) : SENT);
    }
    if (this.#discardCount > 0) {
      this.#discardCount--;
      return Promise.resolve(SENT);
    }
    if (this.#discardWhen?.(bytes, destination)) return Promise.resolve(SENT);
    record.delivered = true;
    const copy = bytes.slice();
    const deliver = (): void => peer.receive(copy, this);
    if (this.#delayMs > 0) this.#network.clock.setTimeout(deliver, this.#delayMs);
    else queueMicrotask(deliver);
    return Promise.resolve(SENT);
  }

  /** @internal a message from `from` arrives. */
  receive(bytes: Uint8Array, from: LoopTransport): void {
    if (!this.#listening) return;
    const connectionId = this.reliable ? `loop-${from.local.host}:${from.local.port}` : undefined;
    this.#sink?.message(bytes, { transport: this.protocol, host: from.local.host, port: from.local.port, connectionId, local: this.#local }, this.reliable);
  }

  /** Unbind. */
  close(): Promise<void> {
    this.#listening = false;
    this.#network.unbind(this);
    return Promise.resolve();
  }
}
