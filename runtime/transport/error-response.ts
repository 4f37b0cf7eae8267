/**
 * The stateless answer to a request the parser refused (RFC 3261 §8.2.6,
 * §21.4.1 400; 505, 513 where the error says so). The parser's record is
 * not trusted after a failure, so the five headers a response needs (Via,
 * From, To, Call-ID, CSeq) are found again by a plain line scan of the
 * first bytes. Cold path. Nothing is sent for responses, ACKs, or requests
 * missing one of those headers.
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
 * @param bytes    the refused message
 * @param status   the status to answer with (the ABI error's `sipStatus`)
 * @param message  what was wrong (goes in a Warning, RFC 3261 §20.43 code 399)
 * @param agent    warn-agent: this server's host[:port]
 * @return the response, or undefined when the message cannot be answered
 */
export function errorResponseFor(bytes: Uint8Array, status: number, message: string, agent: string): OutgoingResponse | undefined {
  const text = utf8.decode(bytes.subarray(0, Math.min(bytes.length, SCAN_BYTES)));
  const lines = text.split(/\r?\n/);
  const start = REQUEST_LINE.exec(lines[0] ?? '');
  if (!start || start[1]!.toUpperCase() === 'ACK') return undefined;
  const found = new Map<string, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = COPIED[line.slice(0, colon).trim().toLowerCase()];
    if (name === undefined) continue;
    const value = line.slice(colon + 1).trim();
    if (value.length === 0 || CTL.test(value)) return undefined;
    const values = found.get(name) ?? [];
    values.push(value);
    found.set(name, values);
  }
  const headers: HeaderField[] = [];
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const values = found.get(name);
    if (!values) return undefined;
    if (name === 'Via') for (const v of values) headers.push([name, v]);
    else if (name === 'To') headers.push([name, hasTag(values[0]!) ? values[0]! : `${values[0]!};tag=${newTag()}`]);
    else headers.push([name, values[0]!]);
  }
  headers.push(['Warning', `399 ${agent} "${message.replace(/["\\]/g, "'")}"`]);
  return { status, reason: reasonPhrase(status), headers };
}
