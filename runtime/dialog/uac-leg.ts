/**
 * UacLeg: the outgoing INVITE of a B2BUA (RFC 3261 §13.2): one client
 * transaction at a time, digest answers to 401/407 (once per challenge),
 * the dialog made by the 2xx, the ACK for each 2xx (§13.2.2.4; a
 * retransmitted 2xx is ACKed again, an extra fork is ACKed and sent BYE),
 * CANCEL while ringing, and BYE.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField, OutgoingRequest } from '../sip/message.js';
import { newBranch } from '../sip/ids.js';
import type { Destination } from '../transport/transport.js';
import type { TransportLayer } from '../transport/layer.js';
import type { TransactionLayer } from '../transaction/layer.js';
import type { ClientTx } from '../transaction/client-tx.js';
import { DigestSession, type DigestCredentials } from '../auth/digest-client.js';
import { Dialog } from './dialog.js';

/** What the leg reports to its bridge. */
export interface UacLegEvents {
  /** A 1xx other than 100 (relayed to the caller). */
  provisional(response: MessageView): void;
  /** The callee answered; the dialog exists and the ACK is sent. */
  answered(response: MessageView): void;
  /** No answer: final status (408 for timeout, 503 for a transport error) and the response when there was one. */
  failed(status: number, reason: string, response?: MessageView): void;
}

/** Dependencies of a leg. */
export interface UacLegContext {
  transactions: TransactionLayer;
  transport: TransportLayer;
  /** Our Contact for this leg. */
  contact: string;
  credentials?: DigestCredentials;
  /**
   * Told when a message of this leg cannot be built or sent (a value the
   * serializer refuses, the transaction layer closed). The leg goes on as
   * if the far end had not answered it: an in-dialog request resolves
   * undefined, a 2xx that cannot be ACKed fails the attempt.
   */
  onSendError?: (error: unknown, what: string) => void;
}

/** The outgoing side of a bridged call. */
/** The listeners of a leg that is over. */
const ENDED: UacLegEvents = { provisional: () => undefined, answered: () => undefined, failed: () => undefined };

export class UacLeg {
  #ctx: UacLegContext;
  #events: UacLegEvents;
  #request: OutgoingRequest;
  #destination: Destination;
  #tx: ClientTx | undefined;
  #digest: DigestSession | undefined;
  #cseq: number;
  #dialog: Dialog | undefined;
  #state: 'idle' | 'calling' | 'answered' | 'ended' = 'idle';
  #cancelRequested = false;
  /** Late offer (no SDP in our INVITE): the ACK carries the answer, so it waits for completeAck(). */
  #lateOffer: boolean;
  #pendingAck: MessageView | undefined;
  #lastAck: { dialog: Dialog; request: OutgoingRequest; cseq: number } | undefined;

  /**
   * @param request      the INVITE (From with tag, To, Call-ID, CSeq, Contact, body)
   * @param destination  where it goes
   */
  constructor(ctx: UacLegContext, request: OutgoingRequest, destination: Destination, events: UacLegEvents) {
    this.#ctx = ctx;
    this.#request = request;
    this.#destination = destination;
    this.#events = events;
    this.#cseq = Number(/^\s*(\d+)/.exec(request.headers.find(([n]) => n === 'CSeq')?.[1] ?? '1')?.[1] ?? 1);
    if (ctx.credentials) this.#digest = new DigestSession({ credentials: ctx.credentials });
    this.#lateOffer = !request.body || request.body.length === 0;
  }

  /** The dialog once answered. */
  get dialog(): Dialog | undefined { return this.#dialog; }
  /** Call-ID of the INVITE. */
  get callId(): string { return this.#request.headers.find(([n]) => n === 'Call-ID')?.[1] ?? ''; }
  /** True while no final response has arrived. */
  get ringing(): boolean { return this.#state === 'calling'; }

  /** Send the INVITE. */
  start(): void {
    this.#state = 'calling';
    this.#send(this.#request);
  }

  #send(request: OutgoingRequest): void {
    const tx = this.#ctx.transactions.request(request, this.#destination);
    this.#tx = tx;
    tx.on('provisional', (r) => {
      if (this.#state === 'calling' && r.statusCode > 100) this.#events.provisional(r);
    });
    tx.on('final', (r) => this.#final(r));
    tx.on('timeout', () => this.#fail(408, 'Request Timeout'));
    tx.on('transport-error', () => this.#fail(503, 'Service Unavailable'));
    if (this.#cancelRequested) this.#cancelTx(tx);
  }

  #cancelTx(tx: ClientTx): void {
    try {
      tx.cancel();
    } catch (e) {
      this.#ctx.onSendError?.(e, 'CANCEL');
    }
  }

  #final(response: MessageView): void {
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      if (this.#lateOffer && this.#state === 'calling') this.#pendingAck = response;
      else if (!(this.#lateOffer && this.#pendingAck) && !this.#ack(response) && this.#state === 'calling') {
        // a 2xx we cannot acknowledge (its Contact is no usable Request-URI) is no answer we can use
        this.#state = 'ended';
        this.#release().failed(502, 'Bad Gateway', response);
        return;
      }
      if (this.#state === 'answered' && this.#dialog && response.toTag !== this.#dialog.state.remoteTag) {
        this.#byeFork(response); // a second fork answered (RFC 3261 §13.2.2.4)
        return;
      }
      if (this.#state !== 'calling') return; // a retransmitted 2xx: ACKed again above
      this.#state = 'answered';
      this.#dialog ??= Dialog.fromResponse(this.#request, response, this.#destination);
      this.#events.answered(response);
      return;
    }
    if (this.#state !== 'calling') return;
    if ((status === 401 || status === 407) && this.#digest && !this.#cancelRequested) {
      const name = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      const answer = this.#digest.answer({ status, challenges: response.headers(name) }, this.#request);
      if (answer.ok) {
        this.#cseq += 1;
        const headers: HeaderField[] = this.#request.headers
          .filter(([n]) => n !== 'Authorization' && n !== 'Proxy-Authorization')
          .map(([n, v]) => (n === 'CSeq' ? [n, `${this.#cseq} INVITE`] : [n, v]));
        this.#request = { ...this.#request, headers: [...headers, ...answer.value.map(([n, v]) => [n, v] as HeaderField)] };
        try {
          this.#send(this.#request);
          return;
        } catch (e) {
          this.#ctx.onSendError?.(e, 'INVITE');
        }
      }
    }
    this.#state = 'ended';
    const events = this.#release();
    events.failed(status, response.reason ?? '', response);
  }

  #fail(status: number, reason: string): void {
    if (this.#state !== 'calling') return;
    this.#state = 'ended';
    this.#release().failed(status, reason);
  }

  /**
   * The leg is over: forget who listens (no event can follow). The INVITE
   * transaction keeps this leg for up to 64×T1 after a 2xx (RFC 6026 Timer
   * M) or a non-2xx (Timer D); without this, the whole call above it (its
   * Dial, session, records) would stay in memory that long.
   * @return the listeners it had
   */
  #release(): UacLegEvents {
    const events = this.#events;
    this.#events = ENDED;
    return events;
  }

  /**
   * Late offer: send the ACK of the 2xx with the caller's SDP answer (RFC
   * 3261 §13.2.2.4). Nothing is sent once the leg has ended: the far end
   * gave up waiting and hung up (RFC 3261 §13.3.1.4), its dialog is gone,
   * and its address may already belong to someone else.
   */
  completeAck(body: Uint8Array | undefined, contentType: string | undefined): void {
    const response = this.#pendingAck;
    if (!response) return;
    this.#pendingAck = undefined;
    this.#lateOffer = false;
    if (this.#state === 'ended') return;
    this.#ack(response, body, contentType);
  }

  /**
   * The ACK for a 2xx: a new transaction-less request on the dialog (RFC 3261 §13.2.2.4).
   * @return false when it could not be built or sent
   */
  #ack(response: MessageView, body?: Uint8Array, contentType?: string): boolean {
    try {
      const dialog = this.#dialog && response.toTag === this.#dialog.state.remoteTag
        ? this.#dialog
        : Dialog.fromResponse(this.#request, response, this.#destination);
      const headers: HeaderField[] = body && body.length > 0 ? [['Content-Type', contentType ?? 'application/sdp']] : [];
      const ack = dialog.createRequest('ACK', { cseq: response.cseqNumber, headers, body: body && body.length > 0 ? body : undefined });
      this.#write(dialog, ack);
      if (!this.#dialog || dialog === this.#dialog) this.#lastAck = { dialog, request: ack, cseq: response.cseqNumber };
      return true;
    } catch (e) {
      this.#ctx.onSendError?.(e, 'ACK');
      return false;
    }
  }

  #byeFork(response: MessageView): void {
    try {
      const fork = Dialog.fromResponse(this.#request, response, this.#destination);
      this.#ctx.transactions.request(fork.createRequest('BYE'), fork.destination());
    } catch (e) {
      this.#ctx.onSendError?.(e, 'BYE');
    }
  }

  /**
   * Resend the ACK for a 2xx retransmission that reached no transaction
   * (the same ACK, SDP included): only for the 2xx of our INVITE on this
   * dialog; a stray 2xx of another request (a re-INVITE's, after its
   * transaction ended) is not answered with the INVITE's ACK.
   */
  ackRetransmission(response: MessageView): void {
    if (!this.#dialog || response.toTag !== this.#dialog.state.remoteTag) return;
    const last = this.#lastAck;
    if (!last || response.cseqNumber !== last.cseq) return;
    try {
      this.#write(last.dialog, last.request);
    } catch (e) {
      this.#ctx.onSendError?.(e, 'ACK');
    }
  }

  /** @throws SipBuildError when the request cannot be serialized */
  #write(dialog: Dialog, request: OutgoingRequest): void {
    const destination = dialog.destination();
    const via = this.#ctx.transport.viaFor(destination, newBranch());
    if (via === undefined) return;
    const headers: HeaderField[] = [['Via', via], ['Max-Forwards', '70'], ...request.headers];
    void this.#ctx.transactions.write({ ...request, headers }, destination);
  }

  /** CANCEL the INVITE while it rings (sent once a provisional arrived, RFC 3261 §9.1). */
  cancel(): void {
    if (this.#state !== 'calling' || this.#cancelRequested) return;
    this.#cancelRequested = true;
    if (this.#tx) this.#cancelTx(this.#tx);
  }

  /**
   * Send an in-dialog request and resolve with its final response (undefined
   * on timeout or error). A 401/407 is answered once with the route's
   * credentials (RFC 3261 §22.2: in-dialog requests may be challenged too).
   */
  async request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array } = {}): Promise<MessageView | undefined> {
    const dialog = this.#dialog;
    if (!dialog) return undefined;
    const auth = this.#digest?.authorize({ method, uri: dialog.state.remoteTarget, body: options.body }) ?? [];
    const first = await sendInDialog(this.#ctx, dialog, method, { ...options, headers: [...(options.headers ?? []), ...auth.map(([n, v]) => [n, v] as HeaderField)] });
    const status = first?.statusCode;
    if (!first || !this.#digest || (status !== 401 && status !== 407)) return first;
    const name = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const answer = this.#digest.answer({ status, challenges: first.headers(name) }, { method, uri: dialog.state.remoteTarget, body: options.body });
    if (!answer.ok) return first;
    return sendInDialog(this.#ctx, dialog, method, { ...options, headers: [...(options.headers ?? []), ...answer.value.map(([n, v]) => [n, v] as HeaderField)] });
  }

  /** Hang up an answered leg. */
  bye(): Promise<MessageView | undefined> {
    if (this.#state !== 'answered') return Promise.resolve(undefined);
    this.#state = 'ended';
    this.#release();
    return this.request('BYE');
  }

  /** Mark the leg ended without signalling (the far end hung up). */
  ended(): void {
    this.#state = 'ended';
    this.#release();
  }
}

/**
 * Send a request on a dialog; re-INVITEs carry our Contact and their 2xx is
 * ACKed. Resolves with the final response, undefined on timeout, transport
 * error or when the request cannot be built (told to `onSendError`); never rejects.
 */
export function sendInDialog(ctx: { transactions: TransactionLayer; transport: TransportLayer; contact: string; onSendError?: (error: unknown, what: string) => void }, dialog: Dialog, method: string, options: { headers?: HeaderField[]; body?: Uint8Array }): Promise<MessageView | undefined> {
  let tx: ClientTx;
  let request: OutgoingRequest;
  const destination = dialog.destination();
  try {
    request = dialog.createRequest(method, { ...options, contact: method === 'INVITE' || method === 'UPDATE' ? ctx.contact : undefined });
    tx = ctx.transactions.request(request, destination);
  } catch (e) {
    ctx.onSendError?.(e, method);
    return Promise.resolve(undefined);
  }
  if (method === 'INVITE') {
    const cseq = Number(/^\d+/.exec(request.headers.find(([n]) => n === 'CSeq')?.[1] ?? '0')?.[0] ?? 0);
    // every 2xx (first and retransmitted) gets an ACK (RFC 3261 §13.2.2.4), on this dialog only
    tx.on('final', (r) => {
      if (r.statusCode < 200 || r.statusCode >= 300) return;
      const via = ctx.transport.viaFor(destination, newBranch());
      if (via === undefined) return;
      try {
        const ack = dialog.createRequest('ACK', { cseq });
        void ctx.transactions.write({ ...ack, headers: [['Via', via], ['Max-Forwards', '70'], ...ack.headers] }, destination);
      } catch (e) {
        ctx.onSendError?.(e, 'ACK');
      }
    });
  }
  return tx.outcome.then((o) => (o.kind === 'response' ? o.response : undefined));
}
