/**
 * Fault injection below the call and dialog layers: the transaction layer
 * and server transactions as a TU sees them, except that a message the test
 * picks cannot be built (SipBuildError, as the serializer throws for a
 * value it refuses).
 */
import { SipBuildError } from '../../runtime/sip/errors.js';
import type { OutgoingMessage, OutgoingRequest, OutgoingResponse } from '../../runtime/sip/message.js';
import type { ServerTx } from '../../runtime/transaction/server-tx.js';
import type { TransactionLayer } from '../../runtime/transaction/layer.js';

/** Which outgoing message of Patchbay's cannot be built. */
export interface Faults {
  /** A request (INVITE, BYE, ACK…) Patchbay sends. */
  request?: (request: OutgoingRequest) => boolean;
  /** A response Patchbay sends to an inbound request. */
  response?: (response: OutgoingResponse, tx: ServerTx) => boolean;
}

function refuse(what: string): never {
  throw new SipBuildError('PB_ERR_SIP_HEADER_INJECTION', 'Call-ID', `${what}: header "Call-ID" contains a control character (injected fault)`);
}

/** The transaction layer as the call layer sees it, with `faults` applied to what it sends. */
export function faulty(tx: TransactionLayer, faults: Faults): TransactionLayer {
  return new Proxy(tx, {
    get(target, key) {
      if (key === 'request') return (r: OutgoingRequest, d: Parameters<TransactionLayer['request']>[1]) => (faults.request?.(r) ? refuse(r.method) : target.request(r, d));
      if (key === 'write') return (m: OutgoingMessage, d: Parameters<TransactionLayer['write']>[1]) => ('method' in m && faults.request?.(m) ? refuse(m.method) : target.write(m, d));
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A server transaction whose responses go through `faults`. */
export function faultyServerTx(tx: ServerTx, faults: Faults): ServerTx {
  return new Proxy(tx, {
    get(target, key) {
      if (key === 'respond') return (r: OutgoingResponse) => (faults.response?.(r, target) ? refuse(`${r.status}`) : target.respond(r));
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

