/**
 * Adapter for `sip.js` (SIP.js): `Core.Parser.parseMessage(data, logger)`.
 *
 * SIP.js forked its parser from JsSIP, and it parses the same way: the start line with its PEG
 * grammar (Request-URI parsed), then eagerly the top Via only, From, To, Call-ID, CSeq, Contact and
 * Record-Route (every value, URIs parsed), Content-Length, Content-Type, Max-Forwards,
 * WWW-/Proxy-Authenticate and Refer-To (URI headers parsed and re-capitalised). Unlike JsSIP it keeps
 * Session-Expires, Replaces and Event as strings. It validates: a well-known header that fails its
 * grammar rejects the whole message. The body stays a string.
 */
import { createRequire } from 'node:module';
import { Core } from 'sip.js';
import type { ProxyFields, SipPeer } from './types.js';

const require = createRequire(import.meta.url);
const version = (require('sip.js/package.json') as { version: string }).version;

const loggerFactory = new Core.LoggerFactory();
loggerFactory.builtinEnabled = false;

/** The logger the parser writes its rejections to; built once, outside any measured call. */
const logger = loggerFactory.getLogger('sip.Parser');

/** SIP.js's WebSocket transport decodes binary frames with a UTF-8 `TextDecoder`. */
const decoder = new TextDecoder('utf-8');

/** SIP.js, parsing the text its WebSocket transport would hand it. */
export const sipJsPeer: SipPeer = {
  name: `sip.js@${version}`,
  parse(bytes: Uint8Array): unknown {
    return Core.Parser.parseMessage(decoder.decode(bytes), logger);
  },
  proxyFields(bytes: Uint8Array): ProxyFields {
    const message = Core.Parser.parseMessage(decoder.decode(bytes), logger);
    return {
      branch: message?.viaBranch ?? undefined,
      callId: message?.callId ?? undefined,
      cseq: message?.cseq ?? undefined,
      fromTag: message?.fromTag ?? undefined,
      toTag: message?.toTag ?? undefined,
    };
  },
};
