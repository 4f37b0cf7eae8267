/**
 * Mutations of a SIP message as an attacker (or a broken peer) sends them: bit flips, truncations,
 * duplicated and huge headers, control bytes in header values, made-up methods, bad Content-Length,
 * folded and LF-only lines, missing mandatory headers, random bytes. Every choice comes from the
 * seeded PRNG, so the same seed gives the same bytes.
 */

/** Names of the mutations, for the report's counts. */
export const MUTATIONS = [
  'bit-flip', 'truncate', 'duplicate-header', 'huge-header', 'control-byte', 'random-method', 'content-length',
  'drop-header', 'fold-lines', 'lf-only', 'random-bytes', 'splice', 'numbers', 'many-headers', 'uri',
] as const;

/** One mutation's name. */
export type Mutation = (typeof MUTATIONS)[number];

/** Control bytes RFC 3261 §25.1 allows nowhere in a header value (HTAB aside), plus bare CR and LF. */
const CONTROL = [0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x0a, 0x1b, 0x1f, 0x7f];

/** Headers whose values the control-byte mutation targets first (the ones a response echoes). */
const ECHOED = ['Call-ID', 'From', 'To', 'Via', 'CSeq', 'Content-Type', 'Contact', 'Max-Forwards'];

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function int(rng: () => number, below: number): number {
  return Math.floor(rng() * below);
}

/** Splits a message into head lines and body at the first blank line (CRLF framing). */
function split(text: string): { lines: string[]; body: string } {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { lines: text.split('\r\n'), body: '' };
  return { lines: text.slice(0, end).split('\r\n'), body: text.slice(end + 4) };
}

function join(lines: string[], body: string): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Text-level mutations (the message is still mostly SIP, so it reaches the deeper layers). */
function mutateText(text: string, m: Mutation, rng: () => number, maxBytes: number): string {
  const { lines, body } = split(text);
  const header = (): number => 1 + int(rng, Math.max(1, lines.length - 1));
  switch (m) {
    case 'duplicate-header': {
      const at = header();
      const copies = 1 + int(rng, rng() < 0.9 ? 3 : 60);
      lines.splice(at, 0, ...Array.from({ length: copies }, () => lines[at] ?? 'Via: x'));
      return join(lines, body);
    }
    case 'huge-header': {
      const size = Math.min(maxBytes, 512 + int(rng, rng() < 0.7 ? 4096 : maxBytes));
      const name = pick(rng, ['Subject', 'X-Big', 'Via', 'From', 'Call-ID', 'Route', 'Contact', 'User-Agent']);
      const fill = pick(rng, ['a', ',', ';', '<', ' ', '%', 'ÿ']);
      lines.splice(header(), 0, `${name}: ${fill.repeat(size)}`);
      return join(lines, body);
    }
    case 'control-byte': {
      const wanted = pick(rng, ECHOED);
      let at = lines.findIndex((l) => l.toLowerCase().startsWith(`${wanted.toLowerCase()}:`));
      if (at < 0 || rng() < 0.2) at = header();
      const line = lines[at] ?? '';
      const colon = Math.max(0, line.indexOf(':')) + 1;
      const pos = colon + int(rng, Math.max(1, line.length - colon + 1));
      lines[at] = line.slice(0, pos) + String.fromCharCode(pick(rng, CONTROL)) + line.slice(pos);
      return join(lines, body);
    }
    case 'random-method': {
      const method = rng() < 0.5 ? `X${Math.floor(rng() * 1e9).toString(36).toUpperCase()}` : pick(rng, ['INVITE', 'BYE', 'ACK', 'CANCEL', 'GET', 'invite', 'I NVITE', '', 'SIP/2.0', 'PRACK', 'PUBLISH', 'X'.repeat(200)]);
      const first = lines[0] ?? '';
      lines[0] = first.startsWith('SIP/2.0') ? `${method} sip:x@127.0.0.1 SIP/2.0` : `${method}${first.slice(first.indexOf(' '))}`;
      if (rng() < 0.5) {
        const cseq = lines.findIndex((l) => l.startsWith('CSeq:'));
        if (cseq > 0) lines[cseq] = `CSeq: ${1 + int(rng, 100)} ${rng() < 0.5 ? method : pick(rng, ['INVITE', 'BYE', 'ACK'])}`;
      }
      return join(lines, body);
    }
    case 'content-length': {
      const value = pick(rng, ['-1', '0', '99999999', '4294967296', 'abc', '', ' 12', '1e3', String(body.length + 1 + int(rng, 2000)), String(Math.max(0, body.length - 1)), '0x10']);
      const at = lines.findIndex((l) => l.startsWith('Content-Length:'));
      if (at > 0 && rng() < 0.7) lines[at] = `Content-Length: ${value}`;
      else lines.splice(header(), 0, `Content-Length: ${value}`);
      return join(lines, body);
    }
    case 'drop-header': {
      lines.splice(header(), 1);
      return join(lines, body);
    }
    case 'fold-lines': {
      const at = header();
      const line = lines[at] ?? '';
      const cut = Math.max(1, line.indexOf(':') + 1 + int(rng, 8));
      lines[at] = `${line.slice(0, cut)}\r\n${pick(rng, [' ', '\t', '  '])}${line.slice(cut)}`;
      return join(lines, body);
    }
    case 'lf-only':
      return text.replace(/\r\n/g, rng() < 0.5 ? '\n' : '\r');
    case 'numbers': {
      const value = pick(rng, ['-1', '0', '4294967295', '4294967296', '18446744073709551616', '1.5', '00000000000000000001', 'NaN']);
      const name = pick(rng, ['CSeq', 'Max-Forwards', 'Expires', 'Content-Length', 'RSeq', 'Session-Expires', 'Min-SE']);
      const at = lines.findIndex((l) => l.startsWith(`${name}:`));
      if (name === 'CSeq' && at > 0) lines[at] = `CSeq: ${value} ${(lines[at] ?? '').split(' ').at(-1)}`;
      else if (at > 0) lines[at] = `${name}: ${value}`;
      else lines.splice(header(), 0, `${name}: ${value}`);
      return join(lines, body);
    }
    case 'many-headers': {
      const count = 100 + int(rng, 400);
      lines.splice(header(), 0, ...Array.from({ length: count }, (_, i) => `X-H${i}: ${i}`));
      return join(lines, body);
    }
    case 'uri': {
      const first = lines[0] ?? '';
      const uri = pick(rng, ['sip:', 'sip:@', 'sip:[::1', 'sips:x@127.0.0.1:99999', 'tel:+1', 'sip:x@127.0.0.1;transport=', `sip:${'a'.repeat(3000)}@x`, 'sip:x@[::1]:5060;maddr=%00', '<sip:x@y>', 'http://x', 'sip:x@127.0.0.1:0', 'sip:x@256.1.1.1']);
      const parts = first.split(' ');
      if (first.startsWith('SIP/2.0')) lines[0] = `SIP/2.0 ${pick(rng, ['0', '99', '700', '2000', 'abc', '200'])} ${uri}`;
      else lines[0] = `${parts[0]} ${uri} ${rng() < 0.8 ? 'SIP/2.0' : pick(rng, ['SIP/3.0', 'sip/2.0', 'HTTP/1.1', ''])}`;
      return join(lines, body);
    }
    default:
      return text;
  }
}

/** Byte-level mutations (most end in a parse error; a few survive as odd but valid SIP). */
function mutateBytes(bytes: Buffer, m: Mutation, rng: () => number, maxBytes: number): Buffer {
  switch (m) {
    case 'bit-flip': {
      const out = Buffer.from(bytes);
      const flips = 1 + int(rng, 8);
      for (let i = 0; i < flips && out.length > 0; i++) {
        const at = int(rng, out.length);
        out[at] = out[at]! ^ (1 << int(rng, 8));
      }
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, int(rng, bytes.length + 1));
    case 'random-bytes': {
      const out = Buffer.alloc(1 + int(rng, rng() < 0.9 ? 512 : Math.min(maxBytes, 8000)));
      for (let i = 0; i < out.length; i++) out[i] = int(rng, 256);
      return rng() < 0.5 ? Buffer.concat([bytes.subarray(0, int(rng, 40)), out]) : out;
    }
    case 'splice': {
      const at = int(rng, bytes.length + 1);
      const len = int(rng, 64);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + len), bytes.subarray(at)]);
    }
    default:
      return bytes;
  }
}

const BYTE_LEVEL: ReadonlySet<Mutation> = new Set(['bit-flip', 'truncate', 'random-bytes', 'splice']);

/**
 * Applies 1-3 mutations to a well-formed message.
 * @param text - the message
 * @param rng - seeded PRNG
 * @param maxBytes - cap of the result (65,507 for a UDP datagram over IPv4)
 * @returns the bytes and the names of the mutations applied
 */
export function mutate(text: string, rng: () => number, maxBytes: number): { bytes: Buffer; applied: Mutation[] } {
  const count = 1 + int(rng, 3);
  const applied: Mutation[] = [];
  for (let i = 0; i < count; i++) applied.push(pick(rng, MUTATIONS));
  // text mutations first (they need the lines), then the byte-level ones
  for (const m of applied) if (!BYTE_LEVEL.has(m)) text = mutateText(text, m, rng, maxBytes);
  let bytes: Buffer = Buffer.from(text, 'latin1');
  for (const m of applied) if (BYTE_LEVEL.has(m)) bytes = mutateBytes(bytes, m, rng, maxBytes);
  return { bytes: bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes, applied };
}
