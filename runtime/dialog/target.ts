/**
 * Where an in-dialog or out-of-dialog request goes: the host, port and
 * transport of a SIP URI (RFC 3261 §8.1.2 without DNS: names go to the OS
 * resolver; RFC 3263 lookups are out of scope), and name-addr helpers.
 */
import type { Destination, TransportProtocol } from '../transport/transport.js';
import type { WasmParser } from '../wasm/parser.js';
import { createParser } from '../wasm/load.js';
import { readSipUriRouting, unbracket, type SipUriRouting } from '../sip/uri.js';

let ownParser: WasmParser | undefined;

/**
 * The parser URIs are read with when the caller has none at hand: one
 * instance per thread, made on first use. A dialog reads its route and
 * target here, between two messages, so the record it overwrites in OUT is
 * never one a caller still reads.
 */
function uriParser(): WasmParser {
  return (ownParser ??= createParser());
}

/** A sip:/sips: URI from the wire (Contact, Record-Route, Route), or undefined. */
function readWireSipUri(uri: string, parser: WasmParser): SipUriRouting | undefined {
  return readSipUriRouting(parser, uri.trim());
}

/** The URI inside a name-addr (`"Bob" <sip:b@h>;tag=1` → `sip:b@h`), or the addr-spec itself. */
export function uriOf(nameAddr: string): string {
  const lt = nameAddr.indexOf('<');
  if (lt >= 0) {
    const gt = nameAddr.indexOf('>', lt);
    return nameAddr.slice(lt + 1, gt < 0 ? undefined : gt).trim();
  }
  const semi = nameAddr.indexOf(';');
  return (semi < 0 ? nameAddr : nameAddr.slice(0, semi)).trim();
}

/** The value of header parameter `name` (e.g. tag) of a name-addr, or undefined. */
export function headerParam(nameAddr: string, name: string): string | undefined {
  const gt = nameAddr.lastIndexOf('>');
  const params = gt >= 0 ? nameAddr.slice(gt + 1) : nameAddr.slice(Math.max(0, nameAddr.indexOf(';')));
  for (const part of params.split(';')) {
    const [k, v] = part.split('=');
    if (k !== undefined && k.trim().toLowerCase() === name) return v?.trim() ?? '';
  }
  return undefined;
}

/**
 * @return the destination of a sip:/sips: URI (transport param udp/tcp/tls,
 *   sips → tls, default ports 5060/5061), or undefined when `uri` is not one
 */
export function destinationOf(uri: string, fallback: TransportProtocol = 'udp', parser: WasmParser = uriParser()): Destination | undefined {
  const u = readWireSipUri(uri, parser);
  if (!u) return undefined;
  const t = u.transport?.toLowerCase();
  const named = t === 'udp' || t === 'tcp' || t === 'tls' ? t : undefined;
  const transport: TransportProtocol = u.scheme === 'sips' ? 'tls' : named ?? fallback;
  const port = u.port ?? (transport === 'tls' ? 5061 : 5060);
  return { transport, host: unbracket(u.host), port };
}

/** True when a Route/Record-Route URI asks for loose routing (RFC 3261 §16.12.1.1): it carries the `lr` parameter. */
export function isLooseRoute(uri: string, parser: WasmParser = uriParser()): boolean {
  const u = readWireSipUri(uri, parser);
  return u !== undefined && u.lr;
}
