/**
 * What a `<Dial>` needs from the call running it (DialHost), and a host
 * that lends a call's own to a second dial (a transfer's, which rings while
 * the first link stays).
 */
import type { MessageView } from '../wasm/message-view.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { DialOpts } from '../twiml/types.js';
import type { CallContext } from './context.js';
import type { ChildLeg } from './child.js';
import type { Link } from './link.js';
import type { ParentLeg, Sdp } from './parent.js';
import type { CallRecord } from './record.js';
import type { StopSignal } from './stop.js';

/** New TwiML for a connected child (REST API redirect). */
export type ChildRedirect = { url: string; method: 'GET' | 'POST' } | { twiml: string };

/** What a dial needs from the call running it. */
export interface DialHost {
  readonly ctx: CallContext;
  readonly record: CallRecord;
  readonly parent: ParentLeg;
  /** Aborted when the parent hangs up or the call gets new TwiML. */
  readonly signal: StopSignal;
  /** Answer the parent (status in-progress); resolves with its ACK. */
  answerParent(sdp: Sdp): Promise<MessageView | undefined>;
  /** The link in-dialog requests of the parent go to from now on. */
  setLink(link: Link): void;
  /** `link` is over (a newer link, from a transfer, stays). */
  unsetLink(link: Link): void;
  /** A REFER from the connected child (SIP blind transfer). */
  refer(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void;
  /** A REFER from the parent's own leg: the child is the transferee. */
  referFromParent(link: Link, opts: DialOpts, tx: ServerTx, request: MessageView): void;
  /** The REST API gave the connected child new TwiML: it leaves the Dial with a session of its own. */
  redirectChild(link: Link, source: ChildRedirect): void;
  /** Run the screening TwiML on an answered child; true = connect it. */
  screen(child: ChildLeg, url: string, method: 'GET' | 'POST'): Promise<boolean>;
  /** An absolute URL (relative ones resolve against the running document's URL). */
  resolve(url: string): string;
  /** Our address for SDP we make up (hold). */
  mediaIp(): string;
  /** A leg's dialog is gone (an in-dialog request unanswered, 408, 481, an unACKed 2xx): hang up the whole call. */
  endCall(reason: string): void;
  /** A handler of the dial threw: end the call (logged, record failed). */
  crash(error: unknown, where: string): void;
}

/** A host that is `host` in everything but what a new link does (`setLink`). */
export function lendHost(host: DialHost, setLink: (link: Link) => void): DialHost {
  return {
    ctx: host.ctx, record: host.record, parent: host.parent,
    get signal() { return host.signal; },
    answerParent: (sdp) => host.answerParent(sdp),
    setLink,
    unsetLink: (link) => host.unsetLink(link),
    refer: (link, opts, tx, request) => host.refer(link, opts, tx, request),
    referFromParent: (link, opts, tx, request) => host.referFromParent(link, opts, tx, request),
    redirectChild: (link, source) => host.redirectChild(link, source),
    screen: (child, url, method) => host.screen(child, url, method),
    resolve: (url) => host.resolve(url),
    mediaIp: () => host.mediaIp(),
    endCall: (reason) => host.endCall(reason),
    crash: (error, where) => host.crash(error, where),
  };
}
