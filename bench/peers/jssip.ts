/**
 * Adapter for `jssip` (JsSIP): `Parser.parseMessage(data, ua)` from `jssip/lib/Parser.js`.
 * The package entry does not export `Parser`, so the adapter loads that file directly.
 *
 * What it parses: the start line with its PEG grammar (the Request-URI becomes a `URI` object), then
 * eagerly, each with the grammar: the top Via only (lower Vias stay strings), From, To, Call-ID,
 * CSeq, Contact and Record-Route (every value, URIs parsed), Content-Length, Content-Type,
 * Max-Forwards, WWW-/Proxy-Authenticate, Session-Expires, Refer-To (URI headers parsed and their
 * names re-capitalised, so `User-to-User` becomes `User-To-User`), Replaces and Event. Every other
 * header is kept as a trimmed string. It validates: a well-known header that fails its grammar
 * rejects the whole message. The body stays a string; SDP is parsed only on `parseSDP()`.
 */
import { createRequire } from 'node:module';
import type { ProxyFields, SipPeer } from './types.js';

/** The parts of a JsSIP `IncomingRequest` / `IncomingResponse` this adapter reads. */
interface JssipMessage {
  via_branch: string | null;
  call_id: string | null;
  cseq: number | null;
  from_tag: string | null | undefined;
  to_tag: string | null | undefined;
}

/** `jssip/lib/Parser.js`, which has no type declarations. */
interface JssipParser {
  parseMessage(data: string, ua: object): JssipMessage | undefined;
}

const require = createRequire(import.meta.url);
const parser = require('jssip/lib/Parser.js') as JssipParser;
const version = (require('jssip/package.json') as { version: string }).version;

/**
 * `parseMessage` only stores `ua` on incoming requests (replies made later read its configuration),
 * so an empty object stands in for a `JsSIP.UA`.
 */
const FAKE_UA = {};

/** JsSIP's transport decodes binary WebSocket frames with a UTF-8 `TextDecoder`. */
const decoder = new TextDecoder('utf-8');

function value<T>(field: T | null | undefined): T | undefined {
  return field ?? undefined;
}

/** JsSIP, parsing the text its WebSocket transport would hand it. */
export const jssipPeer: SipPeer = {
  name: `jssip@${version}`,
  parse(bytes: Uint8Array): unknown {
    return parser.parseMessage(decoder.decode(bytes), FAKE_UA);
  },
  proxyFields(bytes: Uint8Array): ProxyFields {
    const message = parser.parseMessage(decoder.decode(bytes), FAKE_UA);
    return {
      branch: value(message?.via_branch),
      callId: value(message?.call_id),
      cseq: value(message?.cseq),
      fromTag: value(message?.from_tag),
      toTag: value(message?.to_tag),
    };
  },
};
