/**
 * The one place a leg's dependencies are put together: the SIP stack
 * (transactions, transport, clock), our Contact for that leg, and where its
 * send errors go. Every UasLeg, UacLeg, in-dialog request and 2xx
 * retransmission of a B2BUA takes its context from here.
 */
import type { Clock } from '../transport/clock.js';
import type { TransportLayer } from '../transport/layer.js';
import type { TransactionLayer } from '../transaction/layer.js';
import type { DigestCredentials } from '../auth/digest-client.js';
import type { UasLegContext } from './uas-leg.js';
import type { UacLegContext } from './uac-leg.js';

/** The SIP stack a leg runs on (a BridgeContext or CallContext is one). */
export interface LegStack {
  transactions: TransactionLayer;
  transport: TransportLayer;
  clock: Clock;
}

/** Dependencies of either kind of leg. */
export type LegContext = UasLegContext & UacLegContext;

/** What differs from leg to leg besides the Contact. */
export interface LegOptions {
  /** Told when a message of the leg cannot be built or sent. */
  onSendError?: (error: unknown, what: string) => void;
  /** Digest credentials for a UAC leg's far end, when it challenges. */
  credentials?: DigestCredentials;
}

/**
 * A leg's context on `stack`.
 * @param contact  our Contact on that leg; '' where no request or 2xx of ours needs one (a 2xx retransmitted as it was sent)
 */
export function legContext(stack: LegStack, contact: string, options: LegOptions = {}): LegContext {
  return { transactions: stack.transactions, transport: stack.transport, clock: stack.clock, contact, onSendError: options.onSendError, credentials: options.credentials };
}
