/**
 * Where an in-dialog or out-of-dialog request goes: the host, port and
 * transport of a SIP URI (RFC 3261 §8.1.2 without DNS: names go to the OS
 * resolver; RFC 3263 lookups are out of scope), and name-addr helpers.
 */
import type { Destination, TransportProtocol } from '../transport/transport.js';

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

/** @return the destination of a sip:/sips: URI (transport param, sips → tls, default ports 5060/5061). */
export function destinationOf(uri: string, fallback: TransportProtocol = 'udp'): Destination | undefined {
  const m = /^(sips?):(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?([^?>]*)/i.exec(uri.trim());
  if (!m) return undefined;
  const secure = m[1]!.toLowerCase() === 'sips';
  const params = (m[4] ?? '').toLowerCase();
  const t = /;transport=(udp|tcp|tls)/.exec(params)?.[1] as TransportProtocol | undefined;
  const transport: TransportProtocol = secure ? 'tls' : t ?? fallback;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  const port = m[3] ? Number(m[3]) : transport === 'tls' ? 5061 : 5060;
  return { transport, host, port };
}

/** True when a Route/Record-Route URI asks for loose routing (RFC 3261 §16.12.1.1). */
export function isLooseRoute(uri: string): boolean {
  return /;lr(?:[;=>]|$)/i.test(uri);
}
