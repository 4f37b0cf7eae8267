/**
 * The little SDP work a signalling-only B2BUA needs (RFC 4566, RFC 3264,
 * RFC 3725): a hold answer or offer when a leg must be answered before
 * its peer's media is known, and one stable origin line per leg so a leg
 * that is re-INVITEd to a new party still sees one session whose version
 * goes up (RFC 3264 §8).
 */

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

/**
 * An answer to `offer` that accepts every stream on hold (`a=inactive`,
 * port 9, first payload type kept) so the caller can be answered before the
 * far end's media exists; the real media comes later in a re-INVITE.
 */
export function holdAnswer(offer: Uint8Array | undefined, ip: string): Uint8Array {
  const media = offer ? lines(decoder.decode(offer)).filter((l) => l.startsWith('m=')) : [];
  const out = ['v=0', `o=patchbay 0 0 IN ${addrType(ip)} ${ip}`, 's=patchbay', `c=IN ${addrType(ip)} ${ip}`, 't=0 0'];
  const list = media.length > 0 ? media : ['m=audio 9 RTP/AVP 0'];
  for (const m of list) {
    const [kind, , proto, ...fmts] = m.slice(2).split(' ');
    const fmt = fmts[0] ?? '0';
    out.push(`m=${kind ?? 'audio'} 9 ${proto ?? 'RTP/AVP'} ${fmt}`);
    if (proto?.startsWith('RTP/') && /^\d+$/.test(fmt) && Number(fmt) < 96) {
      // static payload types need no rtpmap
    }
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
  #last = '';

  /** Rewrite the `o=` line of `body` for this leg (undefined stays undefined). */
  apply(body: Uint8Array | undefined): Uint8Array | undefined {
    if (!body || body.length === 0) return body;
    const text = decoder.decode(body);
    const list = lines(text);
    const i = list.findIndex((l) => l.startsWith('o='));
    if (i < 0) return body;
    const parts = list[i]!.slice(2).split(' ');
    if (parts.length < 6) return body;
    const rest = list.filter((_, k) => k !== i).join('\n');
    if (this.#session === undefined) {
      this.#session = `${parts[0]} ${parts[1]}`;
      this.#version = Number(parts[2]) || 0;
      this.#last = rest;
      return body;
    }
    if (rest !== this.#last) {
      this.#version++;
      this.#last = rest;
    }
    const [user, id] = this.#session.split(' ');
    list[i] = `o=${user} ${id} ${this.#version} ${parts[3]} ${parts[4]} ${parts[5]}`;
    return join(list);
  }
}
