/**
 * Server transaction state machines as pure functions (RFC 3261 §17.2.1
 * INVITE, §17.2.2 non-INVITE, with the RFC 6026 §8.7 Accepted state and
 * Timer L, so a retransmitted INVITE after a 2xx is absorbed instead of
 * becoming a new call). server-tx.ts performs the actions. Entering
 * `terminated` implicitly stops every timer. Over a reliable transport G
 * never runs and I and J are zero.
 */
import type { RetransmitInterval } from './timers.js';

/** States, named after the RFC. */
export type ServerTxState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** Timers a server transaction runs. */
export type ServerTimer = 'G' | 'H' | 'I' | 'J' | 'L';

/** Inputs. */
export type ServerTxInput =
  /** A retransmission of the request that created the transaction. */
  | { kind: 'request' }
  /** An ACK matching the transaction (RFC 3261 §17.2.3). */
  | { kind: 'ack' }
  /** The TU hands over a response. */
  | { kind: 'respond'; status: number }
  | { kind: 'timer'; timer: ServerTimer }
  | { kind: 'transport-error' };

/** Actions. */
export type ServerTxAction =
  /** Send the TU's response and remember it as the last one sent. */
  | { do: 'send' }
  /** Send the last response again. */
  | { do: 'resend' }
  /** The TU's response is not allowed in this state; it is not sent. */
  | { do: 'refuse' }
  /** Pass an ACK to the TU (Accepted state, RFC 6026 §8.7). */
  | { do: 'pass-ack' }
  /** Tell the TU no ACK came (Timer H, RFC 3261 §17.2.1). */
  | { do: 'timeout' }
  /** Tell the TU the transport failed (RFC 3261 §17.2.4). */
  | { do: 'transport-error' }
  | { do: 'start'; timer: ServerTimer; interval?: RetransmitInterval }
  | { do: 'stop'; timer: ServerTimer };

/** Result of one step. */
export interface ServerTxStep {
  state: ServerTxState;
  actions: ServerTxAction[];
}

const start = (timer: ServerTimer, interval?: RetransmitInterval): ServerTxAction =>
  interval ? { do: 'start', timer, interval } : { do: 'start', timer };
const stay = (state: ServerTxState, ...actions: ServerTxAction[]): ServerTxStep => ({ state, actions });

/** The state a new server transaction starts in: INVITE Proceeding, others Trying. */
export function initialServerState(invite: boolean): ServerTxState {
  return invite ? 'proceeding' : 'trying';
}

/** One step of the INVITE server transaction (RFC 3261 Figure 7, RFC 6026 Figure 5). */
export function stepInviteServer(state: ServerTxState, input: ServerTxInput, reliable: boolean): ServerTxStep {
  switch (state) {
    case 'proceeding':
      if (input.kind === 'request') return stay(state, { do: 'resend' });
      if (input.kind === 'respond') {
        if (input.status < 200) return stay(state, { do: 'send' });
        if (input.status < 300) return stay('accepted', { do: 'send' }, start('L'));
        return stay('completed', { do: 'send' }, ...(reliable ? [] : [start('G', 'initial')]), start('H'));
      }
      if (input.kind === 'transport-error') return stay('terminated', { do: 'transport-error' });
      return stay(state);
    case 'completed':
      if (input.kind === 'request') return stay(state, { do: 'resend' });
      if (input.kind === 'ack') {
        if (reliable) return stay('terminated');
        return stay('confirmed', { do: 'stop', timer: 'G' }, { do: 'stop', timer: 'H' }, start('I'));
      }
      if (input.kind === 'timer' && input.timer === 'G') return stay(state, { do: 'resend' }, start('G', 'backoff'));
      if (input.kind === 'timer' && input.timer === 'H') return stay('terminated', { do: 'timeout' });
      if (input.kind === 'respond') return stay(state, { do: 'refuse' });
      if (input.kind === 'transport-error') return stay('terminated', { do: 'transport-error' });
      return stay(state);
    case 'confirmed':
      if (input.kind === 'timer' && input.timer === 'I') return stay('terminated');
      if (input.kind === 'respond') return stay(state, { do: 'refuse' });
      return stay(state);
    case 'accepted':
      if (input.kind === 'ack') return stay(state, { do: 'pass-ack' });
      if (input.kind === 'respond') return input.status >= 200 && input.status < 300 ? stay(state, { do: 'send' }) : stay(state, { do: 'refuse' });
      if (input.kind === 'timer' && input.timer === 'L') return stay('terminated');
      if (input.kind === 'transport-error') return stay(state, { do: 'transport-error' });
      return stay(state);
    default:
      return input.kind === 'respond' ? stay(state, { do: 'refuse' }) : stay(state);
  }
}

/** One step of the non-INVITE server transaction (RFC 3261 Figure 8). */
export function stepNonInviteServer(state: ServerTxState, input: ServerTxInput, reliable: boolean): ServerTxStep {
  const final = (): ServerTxStep => (reliable ? stay('terminated', { do: 'send' }) : stay('completed', { do: 'send' }, start('J')));
  switch (state) {
    case 'trying':
    case 'proceeding':
      if (input.kind === 'request') return state === 'trying' ? stay(state) : stay(state, { do: 'resend' });
      if (input.kind === 'respond') return input.status < 200 ? stay('proceeding', { do: 'send' }) : final();
      if (input.kind === 'transport-error') return stay('terminated', { do: 'transport-error' });
      return stay(state);
    case 'completed':
      if (input.kind === 'request') return stay(state, { do: 'resend' });
      if (input.kind === 'timer' && input.timer === 'J') return stay('terminated');
      if (input.kind === 'respond') return stay(state, { do: 'refuse' });
      if (input.kind === 'transport-error') return stay('terminated', { do: 'transport-error' });
      return stay(state);
    default:
      return input.kind === 'respond' ? stay(state, { do: 'refuse' }) : stay(state);
  }
}
