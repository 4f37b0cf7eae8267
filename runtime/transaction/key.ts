/**
 * Transaction matching keys. Client side (RFC 3261 §17.1.3): the top Via
 * branch and the CSeq method. Server side (§17.2.3): branch, sent-by and
 * method, with ACK keyed as the INVITE it acknowledges; requests without
 * the `z9hG4bK` cookie (RFC 2543 peers) fall back to Call-ID, CSeq number,
 * From tag and the whole top Via.
 */
import type { MessageView } from '../wasm/message-view.js';
import { BRANCH_MAGIC_COOKIE } from '../sip/ids.js';
import { bareHost, defaultPort } from '../sip/via.js';
import type { SentBy } from '../transport/via-routing.js';

/** @return the client transaction key for a branch and a (CSeq) method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

/**
 * @param request  the inbound request
 * @param via      its top Via, taken apart
 * @param rawVia   its top Via as received
 * @param method   the method to key under (INVITE for ACK; pass INVITE to find the INVITE a CANCEL targets)
 * @return the server transaction key
 */
export function serverKey(request: MessageView, via: SentBy, rawVia: string, method: string): string {
  const branch = request.branch;
  if (branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE)) {
    return `${branch}|${bareHost(via.host)}:${via.port ?? defaultPort(via.transport)}|${method}`;
  }
  return `2543|${request.callId}|${request.cseqNumber}|${request.fromTag ?? ''}|${rawVia}|${method}`;
}
