/**
 * Bridge: a signalling-only B2BUA call of two legs (RFC 3261 §6, "Back-to-Back
 * User Agent"). The caller's INVITE (leg a, UasLeg) is re-originated to a
 * target (leg b, UacLeg); provisionals, the answer and failures are relayed;
 * in-dialog requests (re-INVITE with its SDP, UPDATE, INFO, …) go to the
 * other leg through the relay a `<Dial>`'s Link uses too (relay.ts) and
 * their final response comes back; a BYE on either leg ends both, and
 * so does an in-dialog request the other leg does not answer, or answers
 * 408 or 481 (RFC 3261 §12.2.1.2: the dialog is gone). No exception leaves
 * a bridge's handlers: a fault ends that bridge alone (see fault.ts).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField } from '../sip/message.js';
import { newCallId, newTag } from '../sip/ids.js';
import type { Clock, TimerHandle } from '../transport/clock.js';
import type { TransportLayer } from '../transport/layer.js';
import type { TransactionLayer } from '../transaction/layer.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DigestCredentials } from '../auth/digest-client.js';
import { UasLeg } from './uas-leg.js';
import { UacLeg } from './uac-leg.js';
import { legContext } from './leg-context.js';
import { InDialogRelay, bodyOf } from './relay.js';
import type { DialogHandler, DialogRegistry } from './registry.js';
import { destinationOf } from './target.js';
import { attempt, type FaultSink } from './fault.js';

/** Everything a bridge needs from the daemon. */
export interface BridgeContext {
  transactions: TransactionLayer;
  transport: TransportLayer;
  clock: Clock;
  registry: DialogRegistry<DialogHandler>;
  /** Our Contact for a transport (`<sip:patchbay@host:port;transport=…>`). */
  contactFor(transport: string): string;
  /** Ring time before CANCEL (ms). */
  ringTimeoutMs: number;
  /** Digest credentials for the target, when it challenges. */
  credentials?: DigestCredentials;
  /** Called once when the bridge has ended. */
  onEnded(bridge: Bridge): void;
  /** Told about an exception caught in the bridge (the bridge ends) or a message that could not be sent. */
  onFault?(bridge: Bridge, error: unknown, where: string): void;
}

/** Re-exported for the call layer's dial, which reads it from here. */
export { dialogGone } from './relay.js';

/** One bridged call. */
export class Bridge implements DialogHandler {
  readonly a: UasLeg;
  readonly b: UacLeg;
  #ctx: BridgeContext;
  #ringTimer: TimerHandle | undefined;
  #timedOut = false;
  #cancelled = false;
  #ended = false;
  #relay: InDialogRelay<'a' | 'b'>;
  #fault: FaultSink;

  /**
   * @param tx      the caller's INVITE server transaction
   * @param target  the SIP URI to call
   */
  constructor(ctx: BridgeContext, tx: ServerTx, target: string) {
    this.#ctx = ctx;
    const onSendError = (error: unknown, what: string): void => ctx.onFault?.(this, error, `sending ${what}`);
    this.#fault = (error, where) => this.#faulted(error, where);
    this.#relay = new InDialogRelay({
      stack: ctx,
      contactFor: (transport) => ctx.contactFor(transport),
      end: (reason) => this.hangup(reason),
      fault: this.#fault,
    });
    const invite = tx.request;
    this.a = new UasLeg(legContext(ctx, ctx.contactFor(tx.source.transport), { onSendError }), tx, newTag());
    const destination = destinationOf(target) ?? { transport: 'udp' as const, host: '127.0.0.1', port: 5060 };
    const from = (invite.header('From') ?? '<sip:anonymous@anonymous.invalid>').replace(/;\s*tag\s*=\s*[^;>]*/i, '');
    const maxForwards = Math.min(70, Math.max(0, (invite.maxForwards ?? 70) - 1));
    const headers: HeaderField[] = [
      ['Max-Forwards', String(maxForwards)],
      ['From', `${from};tag=${newTag()}`],
      ['To', `<${target}>`],
      ['Call-ID', newCallId()],
      ['CSeq', '1 INVITE'],
      ['Contact', ctx.contactFor(destination.transport)],
    ];
    const body = bodyOf(invite);
    if (body) headers.push(['Content-Type', invite.header('Content-Type') ?? 'application/sdp']);
    this.b = new UacLeg(
      legContext(ctx, ctx.contactFor(destination.transport), { credentials: ctx.credentials, onSendError }),
      { method: 'INVITE', uri: target, headers, body },
      destination,
      {
        provisional: (r) => this.#guard('provisional', () => this.#provisional(r)),
        answered: (r) => this.#guard('answer', () => this.#answered(r)),
        failed: (status, reason) => this.#guard('failure', () => this.#failed(status, reason)),
      },
    );
    tx.on('cancel', () => this.#guard('CANCEL', () => this.#callerCancelled()));
  }

  /** Run a handler; an exception in it ends this bridge (never its caller: a SIP event, a timer, the drain). */
  #guard(where: string, fn: () => void): void {
    attempt(fn, this.#fault, where);
  }

  /**
   * A handler threw: end the call with what can still be sent, each send
   * tried on its own (500 to a caller not yet answered, CANCEL to a target
   * still ringing, BYE to answered legs), and forget it at once.
   */
  #faulted(error: unknown, where: string): void {
    this.#ctx.onFault?.(this, error, where);
    if (this.#ended) return;
    const ignore: FaultSink = (e, w) => this.#ctx.onFault?.(this, e, w);
    this.#cancelled = true;
    attempt(() => { if (!this.a.finished) this.a.reject(500, 'Server Internal Error'); }, ignore, 'sending 500');
    attempt(() => this.b.cancel(), ignore, 'sending CANCEL');
    if (this.a.answered) void this.a.request('BYE');
    if (this.b.dialog) void this.b.bye();
    this.#end();
  }

  /** True once both legs are over. */
  get ended(): boolean { return this.#ended; }

  /** Start calling the target. */
  start(): void {
    this.#guard('start', () => this.#start());
  }

  #start(): void {
    const invite = this.a.tx.request;
    if (invite.maxForwards === 0) {
      this.a.reject(483, 'Too Many Hops');
      this.#end();
      return;
    }
    this.#ringTimer = this.#ctx.clock.setTimeout(() => this.#guard('ring timeout', () => {
      this.#timedOut = true;
      this.b.cancel();
    }), this.#ctx.ringTimeoutMs);
    this.b.start();
  }

  #provisional(r: MessageView): void {
    if (r.statusCode === 180 || r.statusCode === 183) {
      this.a.provisional(r.statusCode, r.reason ?? '', r.statusCode === 183 ? bodyOf(r) : undefined, r.header('Content-Type'));
    }
  }

  #answered(r: MessageView): void {
    this.#clearRing();
    if (this.#ended || this.#cancelled || this.a.finished) {
      // too late (the caller cancelled, or the call ended): hang up the answer, keep no dialog
      void this.b.bye().then(() => this.#end());
      return;
    }
    this.#ctx.registry.add(this.b.dialog!, this, 'b');
    this.a.answer(bodyOf(r), r.header('Content-Type'), () => this.hangup('no ACK from the caller'));
    this.#ctx.registry.add(this.a.dialog, this, 'a');
  }

  #failed(status: number, reason: string): void {
    this.#clearRing();
    if (!this.a.finished) {
      if (this.#timedOut) this.a.reject(480, 'Temporarily Unavailable');
      else if (status === 401 || status === 407) this.a.reject(403, 'Forbidden');
      else this.a.reject(status >= 300 && status < 700 ? status : 500, reason || 'Server Error');
    }
    this.#end();
  }

  #callerCancelled(): void {
    this.#cancelled = true;
    this.a.reject(487, 'Request Terminated');
    this.b.cancel();
  }

  /** An in-dialog request arrived on leg `side`. */
  onRequest(side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    this.#guard(`in-dialog ${tx.method}`, () => this.#onRequest(side, tx, request));
  }

  #onRequest(side: 'a' | 'b', tx: ServerTx, request: MessageView): void {
    const leg = side === 'a' ? this.a.dialog : this.b.dialog;
    if (!leg || !leg.acceptRemoteSeq(request.cseqNumber, tx.method)) {
      tx.respond(tx.createResponse(500, 'Server Internal Error', { headers: [['Retry-After', '1']] }));
      return;
    }
    if (tx.method === 'BYE') {
      tx.respond(tx.createResponse(200, 'OK'));
      this.b.ended(); // from now on only the BYE below is sent on leg b
      void (side === 'a' ? this.#byeB() : this.a.request('BYE')).then(() => this.#end());
      return;
    }
    this.#relay.forward(tx, request, side === 'a' ? { from: 'a', to: this.b, toName: 'target' } : { from: 'b', to: this.a, toName: 'caller' });
  }

  #byeB(): Promise<unknown> {
    const dialog = this.b.dialog;
    if (!dialog) return Promise.resolve();
    return this.b.request('BYE');
  }

  /** The ACK for a 2xx we sent on leg `side`. */
  onAck(side: 'a' | 'b', ack: MessageView): void {
    this.#guard('ACK', () => this.#onAck(side, ack));
  }

  #onAck(side: 'a' | 'b', ack: MessageView): void {
    if (side === 'a') {
      this.a.acked();
      this.b.completeAck(bodyOf(ack), ack.header('Content-Type'));
    }
    this.#relay.acked(side);
  }

  /** A 2xx retransmission from the target (our ACK was lost). */
  onStrayResponse(response: MessageView): void {
    this.#guard('2xx retransmission', () => { if (response.cseqMethod === 'INVITE') this.b.ackRetransmission(response); });
  }

  /** End the call from our side (drain, ACK timeout, a leg gone): BYE answered legs, finish the rest. */
  hangup(reason: string): void {
    this.#guard('hangup', () => this.#hangup(reason));
  }

  #hangup(reason: string): void {
    if (this.#ended) return;
    if (!this.a.finished) this.a.reject(503, 'Service Unavailable', [['Reason', `SIP;cause=503;text="${reason.replace(/"/g, '')}"`]]);
    if (this.b.ringing) this.b.cancel();
    const byes: Promise<unknown>[] = [];
    if (this.a.answered) byes.push(this.a.request('BYE'));
    if (this.b.dialog) byes.push(this.b.bye());
    void Promise.all(byes).then(() => this.#end());
    if (byes.length === 0 && !this.b.ringing) this.#end();
  }

  #clearRing(): void {
    if (this.#ringTimer !== undefined) this.#ctx.clock.clearTimeout(this.#ringTimer);
    this.#ringTimer = undefined;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#clearRing();
    this.a.dispose();
    this.#relay.close();
    this.#ctx.registry.remove(this.a.dialog);
    if (this.b.dialog) this.#ctx.registry.remove(this.b.dialog);
    this.#ctx.onEnded(this);
  }
}
