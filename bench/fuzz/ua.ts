/**
 * The fuzzer's reactions to what the daemon sends back, so that mutated traffic also reaches the
 * dialog and call layers: a 2xx to its INVITE gets an ACK (or a mutated one, none, a re-INVITE, a
 * BYE, a CANCEL too late), a provisional response sometimes a CANCEL, a request from the daemon a
 * 200 (or a mutated one, or nothing). Each dialog's choices come from a PRNG seeded with the run's
 * seed and the Call-ID, so a replay makes the same choices. Every dialog a 2xx answered is ended
 * with a clean BYE at the end of the run, as a well-behaved caller would (a mutated ACK may still
 * have been accepted, so "not confirmed" cannot be told apart from "up" here; a 481 is harmless).
 */
import { prng } from '../../test/support/prng.js';
import { branch, request, type DialogIds, type Peer } from './messages.js';
import { mutate } from './mutate.js';

/** A message the daemon sent, reduced to what the reactions need. */
interface Incoming {
  status?: number;
  method?: string;
  callId: string;
  cseqMethod: string;
  cseq: number;
  fromTag?: string;
  toTag?: string;
  via: string[];
  head: string[];
}

function headerValues(lines: string[], names: string[]): string[] {
  const wanted = names.map((n) => `${n.toLowerCase()}:`);
  return lines.filter((l) => wanted.some((w) => l.toLowerCase().startsWith(w))).map((l) => l.slice(l.indexOf(':') + 1).trim());
}

function parse(text: string): Incoming | undefined {
  const head = text.split('\r\n\r\n')[0]!.split('\r\n');
  const first = head[0] ?? '';
  const callId = headerValues(head, ['Call-ID', 'i'])[0];
  const cseq = headerValues(head, ['CSeq'])[0]?.split(/\s+/);
  if (callId === undefined || cseq === undefined || cseq.length < 2) return undefined;
  const tag = (v: string | undefined): string | undefined => /;tag=([^;>\s]+)/.exec(v ?? '')?.[1];
  const status = first.startsWith('SIP/2.0 ') ? Number(first.split(' ')[1]) : undefined;
  return {
    status, method: status === undefined ? first.split(' ')[0] : undefined,
    callId, cseq: Number(cseq[0]), cseqMethod: cseq[1]!,
    fromTag: tag(headerValues(head, ['From', 'f'])[0]), toTag: tag(headerValues(head, ['To', 't'])[0]),
    via: headerValues(head, ['Via', 'v']), head,
  };
}

/** Splits what arrived on a stream (or in a datagram) into messages, at each start line. */
export function splitMessages(text: string): string[] {
  return text.split(/(?=^(?:SIP\/2\.0 \d{3} |[A-Z]+ \S+ SIP\/2\.0\r$))/m).filter((m) => m.trim() !== '');
}

/** The 200 a request from the daemon gets: its Via, From, To, Call-ID and CSeq echoed (RFC 3261 §8.2.6.2). */
function okFor(incoming: Incoming, peer: Peer): string {
  const echo = incoming.head.filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq|record-route):/i.test(l));
  const sdp = incoming.method === 'INVITE' ? 'v=0\r\no=fuzz 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n' : '';
  const to = echo.findIndex((l) => /^(to|t):/i.test(l));
  if (to >= 0 && !/;tag=/.test(echo[to]!)) echo[to] = `${echo[to]};tag=fzans`;
  return [
    'SIP/2.0 200 OK', ...echo, `Contact: <sip:fuzz@${peer.local}>`,
    ...(sdp ? ['Content-Type: application/sdp'] : []), `Content-Length: ${sdp.length}`, '', sdp,
  ].join('\r\n');
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A sender the reactions write through (one UDP socket, or one TCP connection); `mutated` tells a
 * stream that its framing may be broken from there on (see ./send.ts).
 */
export type Send = (bytes: Buffer, mutated: boolean) => void;

/** Reactions of one fuzz run, shared by its sockets. */
export class Reactions {
  readonly #seed: number;
  readonly #maxBytes: number;
  readonly #rngs = new Map<string, () => number>();
  /** Dialogs a 2xx answered and no clean BYE ended yet: Call-ID → what a BYE needs. */
  readonly #confirmed = new Map<string, { ids: DialogIds; peer: Peer; send: Send }>();
  readonly #handled = new Set<string>();
  /** Dialogs whose 2xx got a clean ACK: a retransmitted 2xx gets it again (RFC 3261 §13.2.2.4). */
  readonly #acked = new Set<string>();
  sent = 0;

  constructor(seed: number, maxBytes: number) {
    this.#seed = seed;
    this.#maxBytes = maxBytes;
  }

  #rng(callId: string): () => number {
    let rng = this.#rngs.get(callId);
    if (rng === undefined) {
      rng = prng((this.#seed ^ hash(callId)) >>> 0);
      this.#rngs.set(callId, rng);
    }
    return rng;
  }

  #send(send: Send, text: string, rng: () => number, mutated: boolean): void {
    send(mutated ? mutate(text, rng, this.#maxBytes).bytes : Buffer.from(text, 'latin1'), mutated);
    this.sent++;
  }

  /**
   * Reacts to one message from the daemon.
   * @param text - the message (latin1)
   * @param peer - addresses of the socket it arrived on
   * @param send - how to answer on that socket
   */
  react(text: string, peer: Peer, send: Send): void {
    const m = parse(text);
    if (m === undefined) return;
    const rng = this.#rng(m.callId);
    if (m.method !== undefined) {
      if (m.method === 'ACK') return;
      const roll = rng();
      if (roll < 0.85) this.#send(send, okFor(m, peer), rng, false);
      else if (roll < 0.95) this.#send(send, okFor(m, peer), rng, true);
      if (m.method === 'BYE') this.#confirmed.delete(m.callId);
      return;
    }
    if (m.cseqMethod !== 'INVITE' || m.status === undefined) return;
    const ids: DialogIds = { callId: m.callId, fromTag: m.fromTag ?? 'x', toTag: m.toTag, cseq: m.cseq };
    const topBranch = /branch=([^;,\s]+)/.exec(m.via[0] ?? '')?.[1] ?? branch(rng);
    // one reaction per INVITE transaction and status class: retransmitted responses are absorbed
    const key = `${m.callId} ${m.cseq} ${Math.floor(m.status / 100)}`;
    if (this.#handled.has(key)) {
      if (m.status >= 200 && m.status < 300 && this.#acked.has(m.callId)) this.#send(send, request('ACK', { ...ids }, peer, branch(rng)), rng, false);
      return;
    }
    this.#handled.add(key);
    if (m.status < 200) {
      if (m.status > 100 && rng() < 0.15) this.#send(send, request('CANCEL', { ...ids, toTag: undefined }, peer, topBranch), rng, rng() < 0.3);
      return;
    }
    if (m.status >= 300) return; // the transaction layer ACKs non-2xx finals (RFC 3261 §17.1.1.3)
    if (m.toTag === undefined) return;
    const ack = request('ACK', ids, peer, branch(rng));
    this.#confirmed.set(m.callId, { ids, peer, send });
    const roll = rng();
    if (roll < 0.4) {
      this.#send(send, ack, rng, false);
      this.#acked.add(m.callId);
      if (rng() < 0.5) this.#bye(m.callId, rng() < 0.3);
    } else if (roll < 0.55) {
      this.#send(send, ack, rng, true);
    } else if (roll < 0.7) {
      this.#send(send, ack, rng, false);
      this.#acked.add(m.callId);
      ids.cseq += 1;
      this.#send(send, request('INVITE', { ...ids }, peer, branch(rng)), rng, rng() < 0.5);
    } else if (roll < 0.8) {
      this.#send(send, request('BYE', { ...ids, cseq: ids.cseq + 1 }, peer, branch(rng)), rng, rng() < 0.3);
    } else if (roll < 0.9) {
      this.#send(send, request('CANCEL', { ...ids, toTag: undefined }, peer, topBranch), rng, false);
    }
    // else: no ACK at all; the daemon retransmits its 2xx and gives up after 64*T1 (RFC 3261 §13.3.1.4)
  }

  #bye(callId: string, mutated: boolean): void {
    const dialog = this.#confirmed.get(callId);
    if (dialog === undefined) return;
    const rng = this.#rng(callId);
    dialog.ids.cseq += 10;
    this.#send(dialog.send, request('BYE', dialog.ids, dialog.peer, branch(rng)), rng, mutated);
    if (!mutated) this.#confirmed.delete(callId);
  }

  /** Whether a dialog confirmed through `send` still needs its BYE (its connection must stay open). */
  holds(send: Send): boolean {
    for (const dialog of this.#confirmed.values()) if (dialog.send === send) return true;
    return false;
  }

  /** Ends every dialog still confirmed with a clean BYE (called after the last fuzz message). */
  hangUpAll(): number {
    const ids = [...this.#confirmed.keys()];
    for (const callId of ids) this.#bye(callId, false);
    return ids.length;
  }
}
