/**
 * Inbound SIP REFER (blind transfer, SPEC-DETAIL.md §5.1, RFC 3515, RFC
 * 4488): the dialled party (the transferor) sends REFER on its dialog; the
 * caller (the transferee) is handed to whatever the `referUrl` TwiML says.
 *
 * Wire order: 202 Accepted at once; NOTIFY `SIP/2.0 100 Trying`; the
 * webhook; then, per answerOnBridge of the original `<Dial>`:
 * - false: final NOTIFY (200, or 503 when the fetch failed), its 2xx
 *   awaited (bounded), BYE to the transferor, then the TwiML runs on the
 *   caller (a failed fetch ends the call);
 * - true: the transferor stays bridged while the TwiML's `<Dial>` rings;
 *   when the new party answers the caller is re-INVITEd to it, then final
 *   NOTIFY 200, BYE to the transferor; when it does not (or the fetch
 *   fails) a final NOTIFY carries the failure and the original bridge
 *   simply goes on.
 * `Refer-Sub: false` suppresses the NOTIFYs. Requests the transfer cannot
 * serve get a clean error and leave the call untouched.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { WasmParser } from '../wasm/parser.js';
import type { HeaderField } from '../sip/message.js';
import type { ServerTx } from '../transaction/server-tx.js';
import type { Clock, TimerHandle } from '../transport/clock.js';
import { extractReferTo, type ReferTarget } from '../sip/refer-to.js';
import type { DialOpts, Verb } from '../twiml/types.js';
import type { Params } from './params.js';

/** No referUrl on the `<Dial>` that set up the call. */
export const NO_REFER_URL = 13802;

/**
 * How an answerOnBridge transfer's `<Dial>` ended: the caller connected to
 * the new party; the new party answered but the caller could not be
 * connected to it (its re-INVITE failed); or nobody answered.
 */
export type BridgedDialOutcome = 'connected' | 'answered' | 'unanswered';

/** The leg that sent the REFER: NOTIFYs go there. */
export interface TransferorLeg {
  readonly ended: boolean;
  request(method: string, options: { headers?: HeaderField[]; body?: Uint8Array }): Promise<MessageView | undefined>;
}

/** What a transfer needs from the call. */
export interface TransferHost {
  readonly callSid: string;
  /**
   * Longest wait for the answer to the final NOTIFY before the transferor
   * gets its BYE (4×T1: the NOTIFY has been retransmitted twice over UDP).
   */
  readonly notifyWaitMs: number;
  /** The call's clock (the NOTIFY wait runs on it). */
  readonly clock: Clock;
  alert(level: 'warning' | 'error', code: number, message: string): void;
  /** Fetch and parse TwiML for the transferee (undefined = the fetch or the document failed). */
  fetchTwiml(url: string, method: 'GET' | 'POST', params: Params): Promise<Verb[] | undefined>;
  /** Parse a REFER's Refer-To with the WASM parser. */
  referTo(request: MessageView): ReferTarget | { ok: false; message: string };
  /**
   * Hand the caller to `verbs` once the current Dial ends (answerOnBridge
   * false, or a document that does not start with `<Dial>`).
   */
  takeOver(verbs: Verb[]): void;
  /**
   * answerOnBridge true: ring the document's first `<Dial>` while the
   * transferor stays bridged. Resolves 'connected' once the caller is
   * connected to the new party (the old link must then be released), else
   * says why not.
   */
  dialWhileBridged(verbs: Verb[], onConnected: () => Promise<void>): Promise<BridgedDialOutcome>;
  emit(stage: 'refer' | 'webhook' | 'completed' | 'failed', target?: string, detail?: string): void;
}

/** One REFER being carried out. */
export class Transfer {
  #host: TransferHost;
  #transferor: TransferorLeg;
  #opts: DialOpts;
  #notify: boolean;
  #eventId: number;
  #release: () => Promise<void>;

  /**
   * @param release  ends the original bridge: BYE to the transferor (awaited)
   */
  constructor(host: TransferHost, transferor: TransferorLeg, opts: DialOpts, request: MessageView, release: () => Promise<void>) {
    this.#host = host;
    this.#transferor = transferor;
    this.#opts = opts;
    this.#notify = !/^\s*false\s*$/i.test(request.header('Refer-Sub') ?? '');
    this.#eventId = request.cseqNumber;
    this.#release = release;
  }

  /**
   * Check a REFER and answer it. Returns the transfer to run, or undefined
   * when the REFER was refused (the call is untouched).
   */
  static accept(host: TransferHost, transferor: TransferorLeg, opts: DialOpts, tx: ServerTx, request: MessageView, busy: boolean, release: () => Promise<void>): { transfer: Transfer; target: ReferTarget } | undefined {
    const refuse = (status: number, reason: string, text: string): undefined => {
      tx.respond(tx.createResponse(status, reason, { headers: [['Warning', `399 patchbay "${text.replace(/["\\\r\n]/g, '')}"`]] }));
      return undefined;
    };
    if (!opts.referUrl) {
      host.alert('warning', NO_REFER_URL, 'REFER received but the <Dial> has no referUrl; transfer refused, call kept');
      return refuse(603, 'Decline', `${NO_REFER_URL} no referUrl on the Dial`);
    }
    if (busy) return refuse(491, 'Request Pending', 'a transfer is already in progress');
    const target = host.referTo(request);
    if (!target.ok) return refuse(400, 'Bad Refer-To', `invalid Refer-To: ${'message' in target ? target.message : ''}`);
    const refSub = /^\s*false\s*$/i.test(request.header('Refer-Sub') ?? '');
    tx.respond(tx.createResponse(202, 'Accepted', { headers: refSub ? [['Refer-Sub', 'false']] : [] }));
    return { transfer: new Transfer(host, transferor, opts, request, release), target };
  }

  /** Run the transfer to its end. */
  async run(target: ReferTarget, baseParams: Params, referredBy: string | undefined): Promise<void> {
    const host = this.#host;
    const started = Date.now();
    host.emit('refer', target.raw);
    void this.#sendNotify('SIP/2.0 100 Trying', false);
    const params: Params = {
      ...baseParams,
      ReferTransferTarget: target.raw,
      // extensions (not sent by Twilio): the target taken apart
      ReferTransferTargetUri: target.uri,
    };
    if (referredBy) params.ReferredBy = referredBy;
    if (target.replaces !== null) params.ReferReplaces = target.replaces;
    for (const h of target.headers) params[`ReferHeader_${h.name}`] = h.value;
    const verbs = await host.fetchTwiml(this.#opts.referUrl!, this.#opts.referMethod, params);
    host.emit('webhook', target.raw, verbs ? 'fetched' : 'failed');
    const startsWithDial = verbs?.find((v) => v.kind !== 'unsupported')?.kind === 'dial';
    if (this.#opts.answerOnBridge && (!verbs || startsWithDial)) {
      if (!verbs) {
        // aOB true and the fetch failed: the original bridge goes on
        await this.#sendNotify('SIP/2.0 503 Service Unavailable', true);
        host.emit('failed', target.raw, 'referUrl fetch failed; original call kept');
        return;
      }
      let connectedMs = 0;
      const outcome = await host.dialWhileBridged(verbs, async () => {
        connectedMs = Date.now() - started;
        await this.#sendNotify('SIP/2.0 200 OK', true);
        await this.#release();
      });
      if (outcome === 'answered') {
        // RFC 3515 §2.4.5: the sipfrag reports the outcome; the target's 200 was not the end of it
        await this.#sendNotify('SIP/2.0 503 Service Unavailable', true);
        host.emit('failed', target.raw, 'transfer target answered, but the caller could not be connected to it');
        return;
      }
      if (outcome === 'unanswered') {
        await this.#sendNotify('SIP/2.0 480 Temporarily Unavailable', true);
        host.emit('failed', target.raw, 'transfer target did not answer; original call kept');
        return;
      }
      host.emit('completed', target.raw, `connected ${connectedMs} ms after the REFER`);
      return;
    }
    // answerOnBridge false (or a document that does not dial): release the transferor now
    await this.#sendNotify(verbs ? 'SIP/2.0 200 OK' : 'SIP/2.0 503 Service Unavailable', true);
    host.takeOver(verbs ?? []);
    await this.#release();
    host.emit(verbs ? 'completed' : 'failed', target.raw, verbs ? undefined : 'referUrl fetch failed; the caller is hung up');
  }

  /** NOTIFY with a sipfrag on the transferor's dialog; a final one terminates the subscription and is awaited (bounded). */
  async #sendNotify(sipfrag: string, final: boolean): Promise<void> {
    if (!this.#notify || this.#transferor.ended) return;
    const headers: HeaderField[] = [
      ['Event', `refer;id=${this.#eventId}`],
      ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60'],
      ['Content-Type', 'message/sipfrag;version=2.0'],
    ];
    const sent = this.#transferor.request('NOTIFY', { headers, body: new TextEncoder().encode(`${sipfrag}\r\n`) });
    if (!final) return;
    const clock = this.#host.clock;
    let timer: TimerHandle | undefined;
    await Promise.race([sent, new Promise((r) => { timer = clock.setTimeout(() => r(undefined), this.#host.notifyWaitMs); })]);
    clock.clearTimeout(timer);
  }
}

/** Check a REFER's Refer-To with the WASM parser, on the REFER's own Refer-To span (the message is not parsed again). */
export function readReferTo(parser: WasmParser, request: MessageView): ReferTarget | { ok: false; message: string } {
  const r = extractReferTo(parser, request);
  return r.ok ? r : { ok: false, message: r.error.message };
}
