/**
 * Adapter for the JavaScript parser inside `drachtio-srf` (`lib/sip-parser/parser.js`), the one its
 * `SipMessage` class uses. `drachtio-srf` is not a dependency of this project: the adapter is loaded
 * only when the package is installed, and the benches and tests skip it otherwise.
 *
 * What it parses: the parser is a fork of the `sip` package's. `SipMessage` calls it in lazy mode,
 * which splits the start line and the header lines with regular expressions, lower-cases header
 * names (except `X-*` and most `P-*`), joins repeated headers with "," and keeps every value a string.
 * A header is parsed only when asked for (`SipMessage.getParsedHeader()`), with the same regular
 * expressions as `sip`: Via params, From/To/Contact name-addr and params, CSeq. It does not validate:
 * lines without a colon are skipped.
 */
import { createRequire } from 'node:module';
import type { ProxyFields, SipPeer } from './types.js';

/** The cursor object `drachtio-srf`'s header parsers take. */
interface HeaderCursor {
  s: string;
  i: number;
}

/** The parts of a lazily parsed `drachtio-srf` message this adapter reads. */
interface DrachtioMessage {
  headers: Record<string, string | undefined>;
}

/** A parsed name-addr (From, To) or Via value: both carry their params. */
interface WithParams {
  params: Record<string, string | undefined>;
}

/** `drachtio-srf/lib/sip-parser/parser.js`, as far as this adapter uses it. */
export interface DrachtioParserModule {
  /** Parses a message; `lazy` keeps header values as strings. */
  parseSipMessage(data: Buffer | string, lazy?: boolean): DrachtioMessage | undefined;
  /** Returns the parser of one lower-case header name. */
  getParser(name: string): (cursor: HeaderCursor) => unknown;
}

/** Views the bytes as a Buffer without copying; `parseSipMessage` decodes it as UTF-8. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Builds the adapter over an already loaded parser module.
 * @param parser - `drachtio-srf/lib/sip-parser/parser.js`
 * @param version - the `drachtio-srf` version, shown in the peer name
 * @returns the peer
 */
export function createDrachtioPeer(parser: DrachtioParserModule, version: string): SipPeer {
  const parseVia = parser.getParser('via') as (cursor: HeaderCursor) => WithParams[];
  const parseNameAddr = parser.getParser('from') as (cursor: HeaderCursor) => WithParams;
  const parseCseq = parser.getParser('cseq') as (cursor: HeaderCursor) => { seq: number };
  const parsed = <T>(value: string | undefined, parse: (cursor: HeaderCursor) => T): T | undefined =>
    value === undefined ? undefined : parse({ s: value, i: 0 });
  return {
    name: `drachtio-srf@${version}`,
    parse(bytes: Uint8Array): unknown {
      return parser.parseSipMessage(toBuffer(bytes), true);
    },
    proxyFields(bytes: Uint8Array): ProxyFields {
      const headers = parser.parseSipMessage(toBuffer(bytes), true)?.headers ?? {};
      return {
        branch: parsed(headers.via, parseVia)?.[0]?.params.branch,
        callId: headers['call-id'],
        cseq: parsed(headers.cseq, parseCseq)?.seq,
        fromTag: parsed(headers.from, parseNameAddr)?.params.tag,
        toTag: parsed(headers.to, parseNameAddr)?.params.tag,
      };
    },
  };
}

/**
 * Loads the adapter if `drachtio-srf` is installed.
 * @returns the peer, or `undefined` when the package cannot be resolved
 */
export function loadDrachtioPeer(): SipPeer | undefined {
  const require = createRequire(import.meta.url);
  try {
    const parser = require('drachtio-srf/lib/sip-parser/parser.js') as DrachtioParserModule;
    const { version } = require('drachtio-srf/package.json') as { version: string };
    return createDrachtioPeer(parser, version);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      return undefined;
    }
    throw error;
  }
}
