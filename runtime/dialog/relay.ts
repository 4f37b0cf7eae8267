/**
 * The in-dialog relay of a B2BUA, shared by the static-route Bridge and a
 * TwiML `<Dial>`'s Link: a request that arrives on one leg's dialog is sent
 * as a new request on the other leg's dialog, and its final response is sent
 * back as our answer (RFC 3261 §12.2: each leg is a dialog of its own, a
 * B2BUA is a UAS on one and a UAC on the other, RFC 3261 §6 "Back-to-Back
 * User Agent").
 *
 * One list of header fields goes across, in both directions (RELAYED_HEADERS);
 * every other field is the leg's own. One bookkeeping for what a relayed
 * request leaves behind: the 2xx of a relayed re-INVITE is ACKed on the leg
 * it came from (sendInDialog, RFC 3261 §13.2.2.4), our own 2xx towards the
 * requester is retransmitted until its ACK and, when none comes within 64·T1,
 * both legs end (§13.3.1.4); a relayed request that gets no answer, or 408
 * or 481, means that leg's dialog is gone and both legs end (§12.2.1.2).
 */
import type { MessageView } from '../wasm/message-view.js';
import { headerIdOf } from '../wasm/message-view.js';
import type { HeaderField, OutgoingResponse } from '../sip/message.js';
import type { ServerTx } from '../transaction/server-tx.js';
import { retransmitUntilAck } from './uas-leg.js';
import { legContext, type LegStack } from './leg-context.js';

/**
 * The header fields carried from an in-dialog request to the one it becomes
 * on the other leg, and from that request's final response to ours. Names
 * are the full forms; compact forms (RFC 3261 §7.3.3) match too.
 *
 * Relayed, because they belong to the session both dialogs carry:
 * - Content-Type, Content-Disposition, Content-Encoding, Content-Language with
 *   the body (RFC 3261 §20.11-§20.15; Content-Length is computed, §20.14)
 * - Supported, Require (§20.37, §20.32): extensions the far end uses or asks for
 * - Session-Expires, Min-SE (RFC 4028 §4, §5): the session timer both ends refresh
 * - Replaces (RFC 3891 §6)
 * - Refer-To, Referred-By (RFC 3515 §2.1, RFC 3892 §3)
 * - Allow, Accept (RFC 3261 §20.5, §20.1), Allow-Events (RFC 6665 §8.2.2)
 * - Event, Subscription-State (RFC 6665 §8.2.1, §8.2.3): a NOTIFY means nothing without them
 * - Reason (RFC 3326 §2)
 * - Info-Package, Recv-Info (RFC 6086 §7.2, §7.3)
 * - every X- header (private extensions, passed through as a proxy would)
 *
 * Never relayed, because each leg sets its own: Via (RFC 3261 §8.1.1.7,
 * §18.2.1: one per hop), Route and Record-Route (§12.2.1.1, §16.12: each
 * dialog's route set), Contact (§12.1.1, §12.2.1.1: our remote target on that
 * leg), CSeq (§12.2.1.1: each dialog's own sequence), Call-ID, From and To
 * (§12.2.1.1: the dialog's identifiers), Max-Forwards (§8.1.1.6: set by the
 * UAC that sends it); nor the digest fields (§22: credentials are per hop,
 * the UacLeg answers challenges itself) nor Content-Length.
 */
export const RELAYED_HEADERS: readonly string[] = [
  'Content-Type', 'Content-Disposition', 'Content-Encoding', 'Content-Language',
  'Supported', 'Require', 'Session-Expires', 'Min-SE', 'Replaces',
  'Refer-To', 'Referred-By', 'Allow', 'Accept', 'Allow-Events',
  'Event', 'Subscription-State', 'Reason', 'Info-Package', 'Recv-Info',
];

/** Relayed well-known headers by parser header id (1 = relayed). */
const RELAYED_IDS = new Uint8Array(256);
/** Relayed extension headers (no parser id), lower case. */
const RELAYED_EXTENSIONS = new Set<string>();
for (const name of RELAYED_HEADERS) {
  const id = headerIdOf(name);
  if (id > 0) RELAYED_IDS[id] = 1;
  else RELAYED_EXTENSIONS.add(name.toLowerCase());
}

/** True for an `X-` extension header name. */
function isXHeader(name: string): boolean {
  return name.length > 2 && name.charCodeAt(1) === 45 /* - */ && (name.charCodeAt(0) | 32) === 120 /* x */;
}

/** The header fields of `view` that go to the other leg, in their order, under their full names. */
export function relayedHeaders(view: MessageView): HeaderField[] {
  const out: HeaderField[] = [];
  for (let i = 0, n = view.headerCount; i < n; i++) {
    const id = view.headerId(i);
    if (id > 0) {
      if (RELAYED_IDS[id] === 1) out.push([view.headerName(i), view.valueAt(i) ?? '']);
      continue;
    }
    const name = view.headerName(i);
    if (isXHeader(name) || RELAYED_EXTENSIONS.has(name.toLowerCase())) out.push([name, view.valueAt(i) ?? '']);
  }
  return out;
}

/** A copy of the body of `view`, undefined when it has none. */
export function bodyOf(view: MessageView): Uint8Array | undefined {
  return view.bodyLength > 0 ? view.body.slice() : undefined;
}

/** True when the answer to an in-dialog request means the dialog is over (RFC 3261 §12.2.1.2: 408, 481, or none at all). */
export function dialogGone(response: MessageView | undefined): boolean {
  return !response || response.statusCode === 408 || response.statusCode === 481;
}

/** A leg requests are relayed to: sends one in-dialog request, resolves with its final response (undefined: none). */
export interface RelayLeg {
  request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array }): Promise<MessageView | undefined>;
}

/** What a relay needs from its owner (the Bridge, the Link). */
export interface RelayOwner {
  /** The SIP stack the legs run on. */
  readonly stack: LegStack;
  /** Our Contact for a transport, put in our answer to a relayed INVITE or UPDATE (RFC 3261 §12.2.2, RFC 3311 §5.2). */
  contactFor(transport: string): string;
  /** A leg's dialog is gone, or the requester never ACKed our 2xx: end both legs. Not called once the relay is closed. */
  end(reason: string): void;
  /** An exception in handling a relayed request's answer. */
  fault(error: unknown, where: string): void;
}

/** Rewrites a body on its way to the other leg (the Link keeps the parent's SDP origin line). */
export type BodyFilter = (body: Uint8Array | undefined) => Uint8Array | undefined;

/** How one request goes across. */
export interface RelayRoute<Side extends string> {
  /** The side the request arrived on (the one that ACKs our 2xx). */
  from: Side;
  /** Where it goes. */
  to: RelayLeg;
  /** Named in end reasons ("no answer from the child …"). */
  toName: string;
  /** Filter for the request's body (towards `to`). */
  requestBody?: BodyFilter;
  /** Filter for the response's body (back towards `from`). */
  responseBody?: BodyFilter;
}

/** The in-dialog relay of one B2BUA call, its legs named by `Side`. */
export class InDialogRelay<Side extends string> {
  #owner: RelayOwner;
  /** Per side: stops the retransmissions of our 2xx of a relayed re-INVITE (called on its ACK). */
  #pendingAcks = new Map<Side, () => void>();
  #closed = false;

  constructor(owner: RelayOwner) {
    this.#owner = owner;
  }

  /** True once closed: answers still go back, but nothing ends the call any more. */
  get closed(): boolean { return this.#closed; }

  /** Relay the in-dialog request of `tx` along `route`; its final response (408 when none) becomes our answer. */
  forward(tx: ServerTx, request: MessageView, route: RelayRoute<Side>): void {
    const method = tx.method;
    const body = route.requestBody ? route.requestBody(bodyOf(request)) : bodyOf(request);
    void route.to.request(method, { headers: relayedHeaders(request), body })
      .then((response) => this.#answer(tx, route, response))
      .catch((e: unknown) => this.#owner.fault(e, `relayed ${method}`));
  }

  #answer(tx: ServerTx, route: RelayRoute<Side>, response: MessageView | undefined): void {
    const method = tx.method;
    const status = response?.statusCode ?? 408;
    const headers: HeaderField[] = response ? relayedHeaders(response) : [];
    if (method === 'INVITE' || method === 'UPDATE') headers.push(['Contact', this.#owner.contactFor(tx.source.transport)]);
    const raw = response ? bodyOf(response) : undefined;
    const body = route.responseBody ? route.responseBody(raw) : raw;
    const out: OutgoingResponse = tx.createResponse(status, response?.reason ?? 'Request Timeout', { headers, body });
    tx.respond(out);
    if (method === 'INVITE' && status >= 200 && status < 300 && !this.#closed) {
      // no ACK within 64·T1: the requester is gone (RFC 3261 §13.3.1.4), the call ends
      this.#pendingAcks.get(route.from)?.();
      this.#pendingAcks.set(route.from, retransmitUntilAck(legContext(this.#owner.stack, ''), tx, out, () => {
        this.#pendingAcks.delete(route.from);
        if (!this.#closed) this.#owner.end(`no ACK for a relayed ${method}`);
      }));
    }
    // the other leg's dialog is gone (no answer, 408, 481): the call cannot go on (RFC 3261 §12.2.1.2);
    // once the relay is closed (hung up, transferred), the call is someone else's business
    if (dialogGone(response) && !this.#closed) this.#owner.end(`no answer from the ${route.toName} to a relayed ${method}`);
  }

  /** The ACK of our 2xx on `side` arrived. */
  acked(side: Side): void {
    this.#pendingAcks.get(side)?.();
    this.#pendingAcks.delete(side);
  }

  /** The call is over (or no longer ours): stop every retransmission; later answers end nothing. */
  close(): void {
    this.#closed = true;
    for (const stop of this.#pendingAcks.values()) stop();
    this.#pendingAcks.clear();
  }
}
