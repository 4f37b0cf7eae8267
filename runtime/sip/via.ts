/**
 * Host and port helpers for Via sent-by values (RFC 3261 §20.42): the
 * fields themselves are read by the WASM parser (M.VIA_*, see
 * runtime/transport/via-routing.ts). Browser-safe.
 */

/** @return `host` without IPv6 brackets, lower case (for comparing addresses). */
export function bareHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.toLowerCase();
}

/** @return `host` as it goes into a Via or a URI: IPv6 addresses get brackets. */
export function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Default port of a transport (RFC 3261 §19.1.2; RFC 7118 for WS/WSS). */
export function defaultPort(transport: string): number {
  switch (transport.toUpperCase()) {
    case 'TLS': return 5061;
    case 'WS': return 80;
    case 'WSS': return 443;
    default: return 5060;
  }
}
