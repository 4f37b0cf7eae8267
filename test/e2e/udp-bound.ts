/**
 * Readiness of a UDP listener (SIPp as a UAS) without binding its port: a
 * probe bind could make the listener's own bind fail.
 */
import { readFileSync } from 'node:fs';

/** True once some socket is bound to UDP `port` (any address), from /proc/net/udp and udp6. */
export function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/udp', '/proc/net/udp6'].some((file) => {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { return false; }
    return text.split('\n').slice(1).some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex));
  });
}

/** Wait (polling every 50 ms, at most `timeoutMs`) until UDP `port` is bound. */
export async function waitUdpBound(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!udpBound(port)) {
    if (Date.now() > deadline) throw new Error(`nothing bound UDP port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
