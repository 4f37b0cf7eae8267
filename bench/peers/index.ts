/**
 * The JavaScript SIP parsers Patchbay is compared with.
 */
import { loadDrachtioPeer } from './drachtio-srf.js';
import { jssipPeer } from './jssip.js';
import { sipJsPeer } from './sip-js.js';
import { sipPeer } from './sip.js';
import type { SipPeer } from './types.js';

export type { ProxyFields, SipPeer } from './types.js';

/**
 * Lists the peers that can be loaded here: `sip`, `jssip` and `sip.js` always (they are dev
 * dependencies), `drachtio-srf` only when installed.
 * @returns the peers, in a stable order
 */
export function loadJsPeers(): SipPeer[] {
  const drachtio = loadDrachtioPeer();
  return drachtio === undefined ? [sipPeer, jssipPeer, sipJsPeer] : [sipPeer, jssipPeer, sipJsPeer, drachtio];
}
