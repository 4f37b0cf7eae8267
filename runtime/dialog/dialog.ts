/**
 * A dialog (RFC 3261 §12): identifiers, sequence numbers, route set and
 * remote target, and the in-dialog requests built from them.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingRequest } from '../sip/message.js';
import type { Destination, Source } from '../transport/transport.js';
import { destinationOf, isLooseRoute, uriOf } from './target.js';

/** The state a dialog keeps. */
export interface DialogState {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Local and remote name-addrs without tags (From/To of our requests). */
  localUri: string;
  remoteUri: string;
  localSeq: number;
  remoteSeq: number;
  remoteTarget: string;
  routeSet: string[];
  /** Where requests go when neither route nor target say (the transport the dialog was made on). */
  via: Destination;
}

/** CSeq numbers are below 2^31 (RFC 3261 §8.1.1.5). */
export const MAX_CSEQ = 2 ** 31;

function stripTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag\s*=\s*[^;>]*/i, '');
}

/** One dialog. */
export class Dialog {
  readonly state: DialogState;
  /** The last URI read for routing and what it gave: a dialog sends every request to the same next hop. */
  #routedUri: string | undefined;
  #routedFallback: string | undefined;
  #routed: Destination | undefined;
  #looseUri: string | undefined;
  #loose = false;

  constructor(state: DialogState) {
    this.state = state;
  }

  /** The dialog id as one string: Call-ID, local tag, remote tag. */
  get id(): string {
    return dialogKey(this.state.callId, this.state.localTag, this.state.remoteTag);
  }

  /**
   * The UAS side, from an INVITE and our To tag (RFC 3261 §12.1.1): route
   * set = Record-Route in order, remote target = Contact.
   */
  static fromRequest(request: MessageView, localTag: string, source: Source): Dialog {
    const from = request.header('From') ?? '';
    const contact = request.header('Contact');
    return new Dialog({
      callId: request.callId ?? '',
      localTag,
      remoteTag: request.fromTag ?? '',
      localUri: stripTag(request.header('To') ?? ''),
      remoteUri: stripTag(from),
      localSeq: 0,
      remoteSeq: request.cseqNumber,
      remoteTarget: contact ? uriOf(contact) : uriOf(from),
      routeSet: request.headers('Record-Route').map(uriOf),
      via: { transport: source.transport, host: source.host, port: source.port, connectionId: source.connectionId, source: source.local.host },
    });
  }

  /**
   * The UAC side, from our INVITE and a 2xx or 1xx with a tag (RFC 3261
   * §12.1.2): route set = Record-Route reversed, remote target = Contact.
   */
  static fromResponse(request: OutgoingRequest, response: MessageView, via: Destination): Dialog {
    const header = (name: string): string => request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? '';
    const contact = response.header('Contact');
    return new Dialog({
      callId: header('Call-ID'),
      localTag: response.fromTag ?? '',
      remoteTag: response.toTag ?? '',
      localUri: stripTag(header('From')),
      remoteUri: stripTag(header('To')),
      localSeq: response.cseqNumber,
      remoteSeq: 0,
      remoteTarget: contact ? uriOf(contact) : request.uri,
      routeSet: response.headers('Record-Route').map(uriOf).reverse(),
      via,
    });
  }

  /** {@link isLooseRoute} of the first route, read once per route. */
  #isLoose(route: string): boolean {
    if (route !== this.#looseUri) {
      this.#looseUri = route;
      this.#loose = isLooseRoute(route);
    }
    return this.#loose;
  }

  /** Where in-dialog requests are sent: the first route, else the remote target. */
  destination(): Destination {
    const next = this.state.routeSet[0] ?? this.state.remoteTarget;
    if (next !== this.#routedUri || this.state.via.transport !== this.#routedFallback) {
      this.#routedUri = next;
      this.#routedFallback = this.state.via.transport;
      this.#routed = destinationOf(next, this.state.via.transport);
    }
    const d = this.#routed;
    const base: Destination = { ...(d ?? this.state.via), source: this.state.via.source };
    // stay on the connection the dialog was made on when it reaches the same peer
    if (this.state.via.connectionId !== undefined && base.transport === this.state.via.transport) {
      return { ...base, connectionId: this.state.via.connectionId };
    }
    return base;
  }

  /**
   * Build an in-dialog request (RFC 3261 §12.2.1.1). ACK reuses the INVITE's
   * CSeq number (pass `cseq`); every other method takes the next local CSeq.
   */
  createRequest(method: string, options: { headers?: HeaderField[]; body?: Uint8Array; cseq?: number; contact?: string } = {}): OutgoingRequest {
    const s = this.state;
    const cseq = options.cseq ?? ++s.localSeq;
    const routes = s.routeSet;
    const strict = routes.length > 0 && !this.#isLoose(routes[0]!);
    const uri = strict ? routes[0]! : s.remoteTarget;
    const routeHeaders: HeaderField[] = (strict ? [...routes.slice(1), s.remoteTarget] : routes).map((r) => ['Route', `<${r}>`]);
    const headers: HeaderField[] = [
      ...routeHeaders,
      ['From', `${s.localUri};tag=${s.localTag}`],
      ['To', `${s.remoteUri};tag=${s.remoteTag}`],
      ['Call-ID', s.callId],
      ['CSeq', `${cseq} ${method}`],
      ...(options.contact ? [['Contact', options.contact] as HeaderField] : []),
      ...(options.headers ?? []),
    ];
    return { method, uri, headers, body: options.body };
  }

  /**
   * Check an in-dialog request's CSeq (RFC 3261 §12.2.2): lower than the
   * last one is out of order (answer 500). A number of 2^31 or more is
   * invalid (§8.1.1.5) and refused without being remembered: accepted, it
   * left nothing higher for the peer's later requests, so one such request
   * made the call impossible to hang up.
   * @return false when the request must be refused
   */
  acceptRemoteSeq(cseq: number, method: string): boolean {
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (!Number.isInteger(cseq) || cseq < 0 || cseq >= MAX_CSEQ) return false;
    if (cseq < this.state.remoteSeq) return false;
    this.state.remoteSeq = cseq;
    return true;
  }
}

/** @return the key of a dialog from the point of view of the local side. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}
