/**
 * The stateless answer to a request the parser refused (RFC 3261 §8.2.6,
 * §21.4.1 400; 505, 513 where the error says so), or that the layer
 * refused (a control character escaped by a quoted-pair: valid per §25.1,
 * never copied; the CTL check below drops it in a copied header). The
 * parser's record is not trusted after a failure, so the five headers a
 * response needs (Via, From, To, Call-ID, CSeq) are found again by a plain
 * line scan of the first bytes (folded lines unfolded, §7.3.1). Cold path. Nothing is sent
 * for responses, ACKs, requests missing one of those headers, or requests
 * where one of them holds a control character; the reason is returned so
 * the caller can count it.
 */
import type { HeaderField, OutgoingResponse } from '../sip/message.js';
import { reasonPhrase } from '../sip/reason-phrases.js';
import { hasTag } from '../sip/build.js';
import { newTag } from '../sip/ids.js';

/** Bytes of the message looked at (headers beyond this are not searched). */
const SCAN_BYTES = 8192;
/** Control characters except HTAB: a header carrying one cannot be echoed back. */
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Names (lower case, compact forms too) of the copied headers → the name written. */
const COPIED: Record<string, string> = {
  via: 'Via', v: 'Via', from: 'From', f: 'From', to: 'To', t: 'To',
  'call-id': 'Call-ID', i: 'Call-ID', cseq: 'CSeq',
};
const utf8 = new TextDecoder('utf-8', { fatal: false });
const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+) \S+ SIP\/\d/;

/**
 * Why a refused message gets no answer:
 * - `not-a-request`: a response or garbage (a broken response is dropped, RFC 3261 §18.1.2);
 * - `ack`: an ACK is never answered (§17.2.1);
 * - `missing-header`: a response needs Via, From, To, Call-ID and CSeq (§8.2.6.2);
 * - `unsafe-header`: one of those holds a control character (see below).
 */
export type Unanswered = 'not-a-request' | 'ack' | 'missing-header' | 'unsafe-header';

/** The header lines after the start line, up to the empty line, folded continuation lines joined with one SP (RFC 3261 §7.3.1). */
function headerLines(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) break;
    if ((line[0] === ' ' || line[0] === '\t') && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line);
  }
  return out;
}

/**
 * @param bytes    the refused message
 * @param status   the status to answer with (the ABI error's `sipStatus`)
 * @param message  what was wrong (goes in a Warning, RFC 3261 §20.43 code 399)
 * @param agent    warn-agent: this server's host[:port]
 * @return the response, or why the message cannot be answered
 */
export function errorResponseFor(bytes: Uint8Array, status: number, message: string, agent: string): OutgoingResponse | Unanswered {
  const text = utf8.decode(bytes.subarray(0, Math.min(bytes.length, SCAN_BYTES)));
  const lines = text.split(/\r?\n/);
  const start = REQUEST_LINE.exec(lines[0] ?? '');
  if (!start) return 'not-a-request';
  if (start[1]!.toUpperCase() === 'ACK') return 'ack';
  const found = new Map<string, string[]>();
  for (const line of headerLines(lines)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = COPIED[line.slice(0, colon).trim().toLowerCase()];
    if (name === undefined) continue;
    const raw = line.slice(colon + 1);
    // RFC 3261 §8.2.6.2: the response's From, Call-ID, CSeq and Via equal the
    // request's, its To too but for the tag. With the control character left
    // out the 400 would match no client transaction (§17.1.3) and answer
    // nothing; with it, it would put on the wire what §25.1 forbids (a NUL
    // ends the string in a C peer, a bare CR splits the header in a lenient
    // one). So the request is dropped unanswered, like a response that does
    // not parse (§18.1.2), and counted; the client's own timers (§17.1.1.2
    // Timer B, §17.1.2.2 Timer F) end its transaction.
    if (CTL.test(raw)) return 'unsafe-header'; // before trim(), which would hide a trailing bare CR
    const value = raw.trim();
    if (value.length === 0) return 'missing-header';
    const values = found.get(name) ?? [];
    values.push(value);
    found.set(name, values);
  }
  const headers: HeaderField[] = [];
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const values = found.get(name);
    if (!values) return 'missing-header';
    if (name === 'Via') for (const v of values) headers.push([name, v]);
    else if (name === 'To') headers.push([name, hasTag(values[0]!) ? values[0]! : `${values[0]!};tag=${newTag()}`]);
    else headers.push([name, values[0]!]);
  }
  headers.push(['Warning', `399 ${agent} "${message.replace(/["\\]/g, "'")}"`]);
  return { status, reason: reasonPhrase(status), headers };
}
