/**
 * In-dialog requests from a parent nobody is connected to (between verbs,
 * while a Dial rings with the caller answered on hold): a re-INVITE or
 * UPDATE gets a hold answer under the leg's origin line, INFO/OPTIONS/
 * NOTIFY get 200, anything else 405.
 */
import type { MessageView } from '../wasm/message-view.js';
import type { HeaderField } from '../sip/message.js';
import type { ServerTx } from '../transaction/server-tx.js';
import { retransmitUntilAck } from '../dialog/uas-leg.js';
import { legContext } from '../dialog/leg-context.js';
import type { CallContext } from './context.js';
import type { ParentLeg } from './parent.js';
import { holdAnswer } from './sdp.js';

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY';

/**
 * Answer `request` on the parent's dialog.
 * @param onAckTimeout  no ACK came for the 2xx of a re-INVITE within 64·T1 (RFC 3261 §13.3.1.4: the call must end)
 * @return for a re-INVITE, the function that stops the 2xx retransmissions (call it on the ACK)
 */
export function answerUnlinked(ctx: CallContext, parent: ParentLeg, tx: ServerTx, request: MessageView, mediaIp: string, onAckTimeout: () => void): (() => void) | undefined {
  if (tx.method === 'INVITE' || tx.method === 'UPDATE') {
    const offer = request.bodyLength > 0 ? request.body.slice() : undefined;
    const headers: HeaderField[] = [['Contact', ctx.contactFor(tx.source.transport)]];
    const body = offer ? parent.origin.apply(holdAnswer(offer, mediaIp)) : undefined;
    if (body) headers.push(['Content-Type', 'application/sdp']);
    const out = tx.createResponse(200, 'OK', { headers, body });
    tx.respond(out);
    if (tx.method !== 'INVITE') return undefined;
    return retransmitUntilAck(legContext(ctx, ''), tx, out, onAckTimeout);
  }
  if (tx.method === 'REFER') {
    tx.respond(tx.createResponse(603, 'Decline', { headers: [['Warning', '399 patchbay "no connected party to transfer"']] }));
    return undefined;
  }
  if (tx.method === 'INFO' || tx.method === 'OPTIONS' || tx.method === 'NOTIFY') {
    tx.respond(tx.createResponse(200, 'OK'));
    return undefined;
  }
  tx.respond(tx.createResponse(405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] }));
  return undefined;
}
