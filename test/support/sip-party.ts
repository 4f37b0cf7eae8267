/**
 * A scripted SIP party for the call-layer integration tests: a user agent on
 * its own loop stack that places calls, answers them by a script (1xx, waits,
 * a final response), keeps its dialogs (RFC 3261 §12) and sends and answers
 * in-dialog requests. It is written on the transaction layer only, so what
 * it sees is what went over the wire, whatever Patchbay's dialog and call
 * code looks like inside. Every message it receives is recorded, detached,
 * with the fake-clock time it arrived.
 */
import { createRequest } from '../../runtime/sip/build.js';
import { newBranch, newCallId, newTag } from '../../runtime/sip/ids.js';
import type { HeaderField, OutgoingRequest } from '../../runtime/sip/message.js';
import type { ClientTx } from '../../runtime/transaction/client-tx.js';
import type { ServerTx } from '../../runtime/transaction/server-tx.js';
import type { Clock } from '../../runtime/transport/clock.js';
import type { Destination } from '../../runtime/transport/transport.js';
import type { MessageView } from '../../runtime/wasm/message-view.js';
import type { LoopStack } from './sip-stack.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An SDP body with the party's media port (`m=audio <SIP port + 10000>`), so a test sees whose media reached whom. */
export function sdpOf(name: string, port: number, version = 1): Uint8Array {
  return encoder.encode(`v=0\r\no=${name} ${port} ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port + 10000} RTP/AVP 0\r\n`);
}

/** The audio port of an SDP body (0 without one): a party's {@link SipParty.mediaPort} says whose it is. */
export function mediaPortOf(body: Uint8Array): number {
  return Number(/^m=audio (\d+)/m.exec(decoder.decode(body))?.[1] ?? 0);
}

/** The body as text. */
export function bodyText(message: { body: Uint8Array }): string {
  return decoder.decode(message.body);
}

/** The addr-spec of a name-addr (`"A" <sip:a@h>;tag=x` → `sip:a@h`). */
export function uriOfNameAddr(value: string): string {
  const open = value.indexOf('<');
  if (open >= 0) return value.slice(open + 1, value.indexOf('>', open));
  return value.split(';')[0]!.trim();
}

/** One step of answering an INVITE: a response, or a wait (fake-clock ms) before the next step. */
export type AnswerStep =
  | { status: number; reason?: string; headers?: HeaderField[]; sdp?: boolean }
  | { wait: number };

/** An in-dialog answer with header fields of its own. */
export interface InDialogAnswer { status: number; headers?: HeaderField[] }

/** How a party answers an in-dialog request: a status (200 by default; a re-INVITE's 2xx carries SDP), one with headers, or nothing. */
export type InDialogReply = number | 'none' | InDialogAnswer | ((request: MessageView) => number | 'none' | InDialogAnswer);

/** A message as a party received it. */
export interface Received {
  /** Fake-clock time of arrival. */
  readonly at: number;
  /** The message (detached: it stays valid). */
  readonly message: MessageView;
}

/** One dialog of a party. */
export class PartyDialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From/To value in requests we send (with our tag). */
  readonly localAddress: string;
  /** Their From/To value (with their tag). */
  readonly remoteAddress: string;
  /** Their Contact URI: the Request-URI of what we send. */
  readonly remoteTarget: string;
  /** In-dialog requests (and ACKs) received, in order. */
  readonly received: Received[] = [];
  #cseq: number;
  readonly #party: SipParty;

  constructor(party: SipParty, fields: { callId: string; localTag: string; remoteTag: string; localAddress: string; remoteAddress: string; remoteTarget: string; cseq: number }) {
    this.#party = party;
    this.callId = fields.callId;
    this.localTag = fields.localTag;
    this.remoteTag = fields.remoteTag;
    this.localAddress = fields.localAddress;
    this.remoteAddress = fields.remoteAddress;
    this.remoteTarget = fields.remoteTarget;
    this.#cseq = fields.cseq;
  }

  /** Received requests of `method` (ACK included), in order. */
  requests(method: string): MessageView[] {
    return this.received.filter((r) => r.message.method === method).map((r) => r.message);
  }

  /** Arrival time of the first received `method`, or undefined. */
  firstAt(method: string): number | undefined {
    return this.received.find((r) => r.message.method === method)?.at;
  }

  /**
   * Send an in-dialog request (RFC 3261 §12.2.1.1); a 2xx to a re-INVITE is ACKed.
   * @return its final response, or undefined (timeout, transport error)
   */
  async request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array; contentType?: string } = {}): Promise<MessageView | undefined> {
    const cseq = ++this.#cseq;
    const headers: HeaderField[] = [...(options.headers ?? [])];
    if (options.body) headers.push(['Content-Type', options.contentType ?? 'application/sdp']);
    const request = createRequest(method, this.remoteTarget, {
      from: this.localAddress, to: this.remoteAddress, callId: this.callId, cseq, contact: this.#party.contact, headers, body: options.body,
    });
    const response = await this.#party.send(request);
    if (method === 'INVITE' && response && response.statusCode >= 200 && response.statusCode < 300) this.ack(cseq);
    return response;
  }

  /** Send the ACK of the 2xx to our INVITE with CSeq `cseq` (RFC 3261 §13.2.2.4). */
  ack(cseq: number, body?: Uint8Array): void {
    const ack = createRequest('ACK', this.remoteTarget, {
      from: this.localAddress, to: this.remoteAddress, callId: this.callId, cseq,
      headers: body ? [['Content-Type', 'application/sdp']] : [], body,
    });
    this.#party.write(ack);
  }

  /** Hang up: send BYE, resolve with its status (0: none). */
  async bye(): Promise<number> {
    return (await this.request('BYE'))?.statusCode ?? 0;
  }
}

/** An INVITE a party received (a new call). */
export interface IncomingCall {
  readonly invite: MessageView;
  readonly at: number;
  /** The dialog (exists from the first response with our tag). */
  readonly dialog: PartyDialog;
  /** A CANCEL arrived (the INVITE was then answered 487). */
  cancelled: boolean;
  /** Final status we sent (0 until one). */
  finalStatus: number;
  /** Fake-clock time of our 2xx, if any. */
  answeredAt?: number;
}

/** A call a party placed. */
export interface OutgoingCall {
  readonly tx: ClientTx;
  readonly request: OutgoingRequest;
  /** Provisional responses received. */
  readonly provisional: MessageView[];
  /** The final response (undefined until there is one). */
  final?: MessageView;
  /** Final status (0 until one; 408 on timeout, 503 on a transport error). */
  status: number;
  /** The dialog, once a 2xx came. */
  dialog?: PartyDialog;
  /** Send CANCEL (RFC 3261 §9.1). */
  cancel(): void;
}

/** A scripted user agent on a loop stack. */
export class SipParty {
  readonly name: string;
  readonly stack: LoopStack;
  /** Where every request it sends goes (Patchbay). */
  readonly peer: Destination;
  readonly #clock: Clock;
  /** `sip:<name>@127.0.0.1:<port>` */
  readonly uri: string;
  /** `<sip:<name>@127.0.0.1:<port>>` */
  readonly contact: string;
  /** INVITEs that opened calls to it, in order. */
  readonly incoming: IncomingCall[] = [];
  /** Calls it placed. */
  readonly outgoing: OutgoingCall[] = [];
  /** How it answers new INVITEs (default: 180, then 200 with SDP after 100 ms). */
  answer: AnswerStep[] = [{ status: 180 }, { wait: 100 }, { status: 200, sdp: true }];
  /** How it answers in-dialog requests, by method (default 200). */
  readonly replies = new Map<string, InDialogReply>();
  readonly #dialogs = new Map<string, PartyDialog>();
  /** Out-of-dialog requests other than INVITE (answered 200). */
  readonly stray: Received[] = [];

  constructor(name: string, stack: LoopStack, peer: Destination, clock: Clock) {
    this.name = name;
    this.stack = stack;
    this.peer = peer;
    this.#clock = clock;
    this.uri = `sip:${name}@127.0.0.1:${stack.address.port}`;
    this.contact = `<${this.uri}>`;
    stack.tx.onRequest((tx, request) => this.#onRequest(tx, request));
    stack.tx.onAck((ack) => {
      const d = this.#dialogOf(ack);
      d?.received.push({ at: this.#clock.now(), message: ack.detach() });
    });
    // a 2xx retransmitted after our INVITE transaction ended: ACK it again (RFC 3261 §13.2.2.4)
    stack.tx.onStrayResponse((response) => {
      if (response.cseqMethod !== 'INVITE' || response.statusCode < 200 || response.statusCode >= 300) return;
      this.#dialogOf(response, true)?.ack(response.cseqNumber);
    });
  }

  /** The audio port of its SDP (see {@link mediaPortOf}). */
  get mediaPort(): number {
    return this.stack.address.port + 10000;
  }

  /** Every dialog it has, oldest first. */
  get dialogs(): PartyDialog[] {
    return [...this.#dialogs.values()];
  }

  /** In-dialog requests of `method` it received on any dialog. */
  requests(method: string): MessageView[] {
    return this.dialogs.flatMap((d) => d.requests(method));
  }

  /** Place a call: an INVITE (with SDP unless `sdp: false`) to `uri` via the peer. */
  call(uri: string, options: { headers?: HeaderField[]; sdp?: boolean } = {}): OutgoingCall {
    const localTag = newTag();
    const localAddress = `<${this.uri}>;tag=${localTag}`;
    const withSdp = options.sdp !== false;
    const request = createRequest('INVITE', uri, {
      from: localAddress, to: `<${uri}>`, callId: newCallId(), contact: this.contact,
      headers: [...(options.headers ?? []), ...(withSdp ? [['Content-Type', 'application/sdp'] as HeaderField] : [])],
      body: withSdp ? sdpOf(this.name, this.stack.address.port) : undefined,
    });
    const tx = this.stack.tx.request(request, this.peer);
    const call: OutgoingCall = {
      tx, request, provisional: [], status: 0,
      cancel: () => tx.cancel(),
    };
    tx.on('provisional', (r) => { call.provisional.push(r.detach()); });
    tx.on('final', (r) => {
      if (call.final) {
        if (r.statusCode < 300) call.dialog?.ack(r.cseqNumber);
        return;
      }
      call.final = r.detach();
      call.status = r.statusCode;
      if (r.statusCode >= 300) return;
      const dialog = new PartyDialog(this, {
        callId: r.callId ?? '', localTag, remoteTag: r.toTag ?? '', localAddress, remoteAddress: r.header('To') ?? '',
        remoteTarget: uriOfNameAddr(r.header('Contact') ?? uri), cseq: 1,
      });
      this.#dialogs.set(this.#key(dialog.callId, localTag), dialog);
      call.dialog = dialog;
      dialog.ack(r.cseqNumber);
    });
    tx.on('timeout', () => { if (!call.status) call.status = 408; });
    tx.on('transport-error', () => { if (!call.status) call.status = 503; });
    this.outgoing.push(call);
    return call;
  }

  /** Send a request through a new client transaction to the peer; resolves with the final response. */
  async send(request: OutgoingRequest): Promise<MessageView | undefined> {
    const tx = this.stack.tx.request(request, this.peer);
    const outcome = await tx.outcome;
    return outcome.kind === 'response' ? outcome.response.detach() : undefined;
  }

  /** Send a request outside any transaction (an ACK), with a fresh Via. */
  write(request: OutgoingRequest): void {
    const via = this.stack.layer.viaFor(this.peer, newBranch());
    void this.stack.tx.write({ ...request, headers: [['Via', via ?? ''], ...request.headers] }, this.peer);
  }

  #key(callId: string, localTag: string): string {
    return `${callId}\n${localTag}`;
  }

  /** The dialog of a request to us (our tag in To) or of a response to our request (`response`: our tag in From). */
  #dialogOf(message: MessageView, response = false): PartyDialog | undefined {
    const tag = response ? message.fromTag : message.toTag;
    return this.#dialogs.get(this.#key(message.callId ?? '', tag ?? ''));
  }

  #onRequest(tx: ServerTx, request: MessageView): void {
    const at = this.#clock.now();
    if (request.toTag) {
      const dialog = this.#dialogOf(request);
      if (!dialog) {
        tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
        return;
      }
      dialog.received.push({ at, message: request.detach() });
      const rule = this.replies.get(tx.method) ?? 200;
      const reply = typeof rule === 'function' ? rule(request) : rule;
      if (reply === 'none') return;
      const { status, headers = [] } = typeof reply === 'number' ? { status: reply } : reply;
      // a re-INVITE's 2xx carries SDP (the answer, or the offer of a late offer); an UPDATE's only when it brought an offer
      const sdp = status >= 200 && status < 300 && (tx.method === 'INVITE' || (tx.method === 'UPDATE' && request.bodyLength > 0));
      tx.respond(tx.createResponse(status, undefined, {
        headers: [['Contact', this.contact], ...headers, ...(sdp ? [['Content-Type', 'application/sdp'] as HeaderField] : [])],
        body: sdp ? sdpOf(this.name, this.stack.address.port, 2) : undefined,
      }));
      return;
    }
    if (tx.method !== 'INVITE') {
      this.stray.push({ at, message: request.detach() });
      tx.respond(tx.createResponse(200, 'OK'));
      return;
    }
    const localTag = newTag();
    const dialog = new PartyDialog(this, {
      callId: request.callId ?? '', localTag, remoteTag: request.fromTag ?? '',
      localAddress: `${request.header('To') ?? ''};tag=${localTag}`, remoteAddress: request.header('From') ?? '',
      remoteTarget: uriOfNameAddr(request.header('Contact') ?? ''), cseq: 0,
    });
    this.#dialogs.set(this.#key(dialog.callId, localTag), dialog);
    const call: IncomingCall = { invite: request.detach(), at, dialog, cancelled: false, finalStatus: 0 };
    this.incoming.push(call);
    tx.on('cancel', () => {
      call.cancelled = true;
      if (call.finalStatus) return;
      call.finalStatus = 487;
      tx.respond(tx.createResponse(487, 'Request Terminated', { toTag: localTag }));
    });
    const steps = [...this.answer];
    const next = (): void => {
      for (let step = steps.shift(); step && !call.finalStatus; step = steps.shift()) {
        if ('wait' in step) {
          this.#clock.setTimeout(next, step.wait);
          return;
        }
        const answered = step.status >= 200 && step.status < 300;
        const sdp = step.sdp ?? answered;
        if (step.status >= 200) call.finalStatus = step.status;
        if (answered) call.answeredAt = this.#clock.now();
        tx.respond(tx.createResponse(step.status, step.reason, {
          toTag: localTag,
          headers: [['Contact', this.contact], ...(step.headers ?? []), ...(sdp ? [['Content-Type', 'application/sdp'] as HeaderField] : [])],
          body: sdp ? sdpOf(this.name, this.stack.address.port) : undefined,
        }));
      }
    };
    next();
  }
}
