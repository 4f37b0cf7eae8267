/**
 * Via header values (RFC 3261 §20.42, §25.1 `via-parm`) taken apart and put
 * back together, for the transport layer (`received`/`rport`, RFC 3261
 * §18.2.1, RFC 3581) and the transaction layer (sent-by matching, §17.2.3).
 * The WASM parser has already checked the syntax of inbound Vias; this
 * reads one value on the cold path. Browser-safe.
 */

/** One Via header value. */
export interface Via {
  /** Transport of `sent-protocol`, upper case (UDP, TCP, TLS, SCTP, WS, WSS...). */
  transport: string;
  /** sent-by host as written (IPv6 references keep their brackets). */
  host: string;
  /** sent-by port, or undefined when absent. */
  port: number | undefined;
  /** Parameters in order: name as written, value (null for a bare name such as `rport`). */
  params: Array<[name: string, value: string | null]>;
}

const VIA = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/s;

/**
 * Read one Via value (one item of a comma list).
 * @return the Via, or undefined when it does not have the RFC 3261 shape
 */
export function parseVia(value: string): Via | undefined {
  const m = VIA.exec(value);
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const params: Array<[string, string | null]> = [];
  for (const raw of (m[4] ?? '').split(';')) {
    const item = raw.trim();
    if (item.length === 0) continue;
    const eq = item.indexOf('=');
    if (eq < 0) params.push([item, null]);
    else params.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()]);
  }
  return { transport: m[1]!.toUpperCase(), host: m[2]!, port, params };
}

/**
 * @return the value of parameter `name` (case-insensitive): a string, null for a bare name, undefined when absent
 */
export function viaParam(via: Via, name: string): string | null | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of via.params) if (n.toLowerCase() === lower) return v;
  return undefined;
}

/** @return a copy of `via` with parameter `name` set (replaced in place, or appended). */
export function withViaParam(via: Via, name: string, value: string | null): Via {
  const lower = name.toLowerCase();
  let found = false;
  const params = via.params.map(([n, v]): [string, string | null] => {
    if (n.toLowerCase() !== lower) return [n, v];
    found = true;
    return [n, value];
  });
  if (!found) params.push([name, value]);
  return { ...via, params };
}

/** @return the Via as a header value, e.g. `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport`. */
export function formatVia(via: Via): string {
  let s = `SIP/2.0/${via.transport} ${via.host}`;
  if (via.port !== undefined) s += `:${via.port}`;
  for (const [n, v] of via.params) s += v === null ? `;${n}` : `;${n}=${v}`;
  return s;
}

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
