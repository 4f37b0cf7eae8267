/**
 * The little SDP work a signalling-only B2BUA needs (RFC 4566, RFC 3264,
 * RFC 3725): a hold answer or offer when a leg must be answered before
 * its peer's media is known, and one stable origin line per leg so a leg
 * that is re-INVITEd to a new party still sees one session whose version
 * goes up (RFC 3264 §8).
 */
import type { WasmParser } from '../wasm/parser.js';
import { unbracket } from '../sip/uri.js';
import { uriOf } from '../dialog/target.js';
import { sipHost } from './params.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function lines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l !== '');
}

function join(list: string[]): Uint8Array {
  return encoder.encode(`${list.join('\r\n')}\r\n`);
}

function addrType(ip: string): 'IP4' | 'IP6' {
  return ip.includes(':') ? 'IP6' : 'IP4';
}

/** The media sections of an SDP body: each `m=` line with the lines that follow it. */
function mediaSections(sdp: string): string[][] {
  const sections: string[][] = [];
  for (const line of lines(sdp)) {
    if (line.startsWith('m=')) sections.push([line]);
    else sections.at(-1)?.push(line);
  }
  return sections;
}

/** The address our made-up SDP (hold) names: the host of our Contact, without IPv6 brackets (127.0.0.1 when it has none). */
export function mediaIpOf(parser: WasmParser, contact: string): string {
  return unbracket(sipHost(parser, uriOf(contact)) || '127.0.0.1');
}

/**
 * An answer to `offer` that accepts every stream on hold (`a=inactive`,
 * port 9, first payload type kept with its `a=rtpmap`/`a=fmtp`, which a
 * dynamic payload type needs) so the caller can be answered before the far
 * end's media exists; the real media comes later in a re-INVITE. A stream
 * the offer disabled (port 0) stays disabled (RFC 3264 §6).
 */
export function holdAnswer(offer: Uint8Array | undefined, ip: string): Uint8Array {
  const sections = offer ? mediaSections(decoder.decode(offer)) : [];
  const out = ['v=0', `o=patchbay 0 0 IN ${addrType(ip)} ${ip}`, 's=patchbay', `c=IN ${addrType(ip)} ${ip}`, 't=0 0'];
  if (sections.length === 0) sections.push(['m=audio 9 RTP/AVP 0']);
  for (const [m, ...attrs] of sections) {
    const [kind, port, proto, ...fmts] = m!.slice(2).split(' ');
    const fmt = fmts[0] ?? '0';
    if (port === '0' || port?.startsWith('0/')) {
      out.push(`m=${kind ?? 'audio'} 0 ${proto ?? 'RTP/AVP'} ${fmt}`);
      continue;
    }
    out.push(`m=${kind ?? 'audio'} 9 ${proto ?? 'RTP/AVP'} ${fmt}`);
    out.push(...attrs.filter((a) => a.startsWith(`a=rtpmap:${fmt} `) || a.startsWith(`a=fmtp:${fmt} `)));
    out.push('a=inactive');
  }
  return join(out);
}

/** A hold offer (PCMU/PCMA, inactive) for a leg that sent no offer. */
export function holdOffer(ip: string): Uint8Array {
  const t = addrType(ip);
  return join(['v=0', `o=patchbay 0 0 IN ${t} ${ip}`, 's=patchbay', `c=IN ${t} ${ip}`, 't=0 0', 'm=audio 9 RTP/AVP 0 8', 'a=inactive']);
}

/**
 * One leg's view of the session origin: every SDP sent on the leg carries
 * the same `o=` username/session-id/address and a version that goes up by
 * one each time the body changes (RFC 3264 §8).
 */
export class OriginKeeper {
  #session: string | undefined;
  #version = 0;
  /** The last body sent, as text. */
  #last = '';

  /** Rewrite the `o=` line of `body` for this leg (undefined stays undefined). */
  apply(body: Uint8Array | undefined): Uint8Array | undefined {
    if (!body || body.length === 0) return body;
    const text = decoder.decode(body);
    const origin = originFields(text);
    if (origin === undefined) return body;
    const last = this.#last;
    this.#last = text;
    if (this.#session === undefined) {
      // the first body goes out as it is (the comparison waits for a second one)
      this.#session = `${origin[0]} ${origin[1]}`;
      this.#version = Number(origin[2]) || 0;
      return body;
    }
    const list = lines(text);
    const i = list.findIndex((l) => l.startsWith('o='));
    if (withoutOrigin(list, i) !== withoutOrigin(lines(last))) this.#version++;
    const [user, id] = this.#session.split(' ');
    list[i] = `o=${user} ${id} ${this.#version} ${origin[3]} ${origin[4]} ${origin[5]}`;
    return join(list);
  }
}

/** The fields of the first `o=` line, or undefined when there is none with six fields. */
function originFields(text: string): string[] | undefined {
  const start = text.startsWith('o=') ? 0 : text.indexOf('\no=') + 1;
  if (start === 0 && !text.startsWith('o=')) return undefined;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  if (text.charCodeAt(end - 1) === 13) end--;
  const parts = text.slice(start + 2, end).split(' ');
  return parts.length < 6 ? undefined : parts;
}

/** The lines other than the first `o=` line (index `i`), joined with LF: what two bodies are compared by. */
function withoutOrigin(list: string[], i = list.findIndex((l) => l.startsWith('o='))): string {
  return list.filter((_, k) => k !== i).join('\n');
}
