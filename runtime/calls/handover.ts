/**
 * Handing a call's legs over: a REFER from the dialled party (the caller
 * is transferred to what the referUrl TwiML says, transfer.ts), a REFER
 * from the caller's own leg (the dialled party is the transferee and gets
 * a session of its own), and the REST API redirecting the connected child
 * (it leaves the Dial with a session of its own). The call these act on is
 * a HandoverCall: the CallSession as the hand-over sees it.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DialogHandler } from '../dialog/registry.js';
import type { DialOpts, Verb } from '../twiml/types.js';
import type { ChildLeg } from './child.js';
import type { ChildRedirect, DialHost } from './dial-host.js';
import { lendHost } from './dial-host.js';
import { DialRun } from './dial.js';
import type { CallContext } from './context.js';
import type { Fetched, TwimlSource } from './documents.js';
import type { Link } from './link.js';
import type { LiveSession } from './live.js';
import { callParams, type Params } from './params.js';
import type { CallRecord } from './record.js';
import type { StopSignal } from './stop.js';
import { Transfer, type BridgedDialOutcome, type TransferHost, type TransferorLeg } from './transfer.js';
import { transferHostFor } from './transfer-host.js';

/** A call as a hand-over sees it. */
export interface HandoverCall {
  readonly ctx: CallContext;
  readonly record: CallRecord;
  /** Extra parameters of the first request (SipCallId, SipHeader_…). */
  readonly initialParams: Params;
  readonly ended: boolean;
  /** Aborted when the caller hangs up or the call gets new TwiML. */
  readonly signal: StopSignal;
  /** The transfer running on this call (one at a time). */
  transfer: Transfer | undefined;
  /** What the call does once the current Dial ends, set by a transfer. */
  takeover: TwimlSource | undefined;
  /** The call as the host of a Dial. */
  readonly dialHost: DialHost;
  /** The link the caller's in-dialog requests go to from now on. */
  setLink(link: Link): void;
  /** Fetch a document for the call (`url` absolute). */
  fetch(url: string, method: 'GET' | 'POST', params: Params): Promise<Fetched>;
  resolve(url: string): string;
  run(source: TwimlSource): Promise<void>;
  /** Stop the running verb. */
  stop(): void;
  hangup(status: 'completed'): void;
  crash(error: unknown, where: string): void;
  /** A session of its own for a child leaving its Dial (transferred, or redirected by the REST API). */
  successorFor(child: ChildLeg): Successor;
}

/** A new session: its dialog handler and what a hand-over does with it. */
export interface Successor {
  readonly session: DialogHandler & LiveSession;
  readonly call: HandoverCall;
}

/** A REFER from the dialled party: 202 and the transfer, or a refusal that leaves the call as it is. */
export function referFromChild(call: HandoverCall, link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void {
  if (call.ended) {
    tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
    return;
  }
  const host = transferHost(call);
  const child = link.child;
  const transferor: TransferorLeg = { get ended() { return child.ended; }, request: (m, o) => child.uac.request(m, o) };
  const accepted = Transfer.accept(host, transferor, opts, tx, request, call.transfer !== undefined, () => link.release());
  if (!accepted) return;
  call.transfer = accepted.transfer;
  const referredBy = request.header('Referred-By');
  void accepted.transfer.run(accepted.target, callParams(call.record, call.initialParams), referredBy)
    .catch((e: unknown) => call.crash(e, 'transfer'))
    .finally(() => { call.transfer = undefined; });
}

/**
 * A REFER from the parent's own leg (the caller transfers the dialled
 * party): the child is the transferee. It gets a session of its own
 * that runs the referUrl TwiML; the caller (transferor) is released.
 */
export function referFromParent(call: HandoverCall, link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void {
  if (call.ended) {
    tx.respond(tx.createResponse(481, 'Call/Transaction Does Not Exist'));
    return;
  }
  const successor = call.successorFor(link.child);
  let handedOver = false;
  const handOver = (): void => {
    if (handedOver) return;
    handedOver = true;
    handOverTo(call, link, successor);
  };
  // the caller hanging up before the hand-over stops the transferee's new dial too
  call.signal.onStop(() => { if (!handedOver) successor.call.stop(); });
  const host: TransferHost = {
    ...transferHost(call),
    takeOver: (verbs) => {
      handOver();
      void successor.call.run(verbs.length > 0 ? { verbs } : { twiml: '<Response><Hangup/></Response>' });
    },
    dialWhileBridged: (verbs, onConnected) => dialWhileBridged(successor.call, verbs, async () => {
      handOver();
      const next = successor.call.takeover;
      successor.call.takeover = undefined;
      if (next) void successor.call.run(next);
      await onConnected();
    }),
  };
  const parent = call.dialHost.parent;
  const transferor: TransferorLeg = { get ended() { return call.ended; }, request: (m, o) => parent.request(m, o) };
  const release = (): Promise<void> => Promise.resolve(call.hangup('completed'));
  const accepted = Transfer.accept(host, transferor, opts, tx, request, call.transfer !== undefined, release);
  if (!accepted) return;
  call.transfer = accepted.transfer;
  void accepted.transfer.run(accepted.target, callParams(call.record, call.initialParams), request.header('Referred-By'))
    .catch((e: unknown) => call.crash(e, 'transfer'))
    .finally(() => { call.transfer = undefined; });
}

/**
 * The REST API redirected the connected child: the link lets go of it
 * (this Dial ends completed and the parent goes on with its action or
 * next verb), and the child runs the new TwiML in a session of its own.
 */
export function redirectChild(call: HandoverCall, link: Link, source: ChildRedirect): void {
  const successor = call.successorFor(link.child);
  handOverTo(call, link, successor);
  void successor.call.run('twiml' in source ? source : { url: source.url, method: source.method });
}

/** The link lets go of its child; the child's dialog and SID now belong to `successor`. */
function handOverTo(call: HandoverCall, link: Link, successor: Successor): void {
  link.detach();
  call.ctx.live.untrackChild(link.child);
  call.ctx.registry.add(link.child.uac.dialog!, successor.session, 'a');
  call.ctx.live.adopt(successor.session);
}

function transferHost(call: HandoverCall): TransferHost {
  return transferHostFor(call.ctx, call.record.sid, {
    fetch: (url, method, params) => call.fetch(call.resolve(url), method, params),
    takeOver: (verbs) => { call.takeover = { verbs }; },
    dialWhileBridged: (verbs, onConnected) => dialWhileBridged(call, verbs, onConnected),
  });
}

/**
 * answerOnBridge transfer: ring the document's first Dial while the old
 * link stays; when it connects, the new link takes over and the rest of
 * the document follows the new Dial's outcome.
 */
function dialWhileBridged(call: HandoverCall, verbs: Verb[], onConnected: () => Promise<void>): Promise<BridgedDialOutcome> {
  const index = verbs.findIndex((v) => v.kind === 'dial');
  const opts = verbs[index] as DialOpts & { kind: 'dial' };
  const rest = verbs.slice(index + 1);
  return new Promise<BridgedDialOutcome>((resolve) => {
    let connected = false;
    const host = lendHost(call.dialHost, (link) => {
      call.setLink(link);
      if (connected) return;
      connected = true;
      call.takeover = { verbs: rest, pending: { run, opts } };
      resolve('connected');
      void onConnected().catch((e: unknown) => call.crash(e, 'transfer'));
    });
    const run = new DialRun(host, opts).run();
    void run.then((result) => {
      if (connected) return;
      // a target that answered (2xx) but could not be connected to the caller is not "no answer"
      const status = result.child?.sipStatus ?? 0;
      resolve(status >= 200 && status < 300 ? 'answered' : 'unanswered');
    }, (e: unknown) => {
      call.crash(e, 'transfer dial');
      if (!connected) resolve('unanswered');
    });
  });
}
