/**
 * Client transaction state machines as pure functions (RFC 3261 §17.1.1
 * INVITE, §17.1.2 non-INVITE, with the RFC 6026 §8.4 Accepted state and
 * Timer M). A step takes a state and an input and returns the next state
 * and the actions to perform; client-tx.ts performs them. Entering
 * `terminated` implicitly stops every timer. Over a reliable transport A
 * and E never run and D and K are zero, so the machine skips Completed.
 */
import type { RetransmitInterval } from './timers.js';

/** States, named after the RFC. */
export type ClientTxState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/** Timers a client transaction runs. */
export type ClientTimer = 'A' | 'B' | 'D' | 'E' | 'F' | 'K' | 'M';

/** Inputs. */
export type ClientTxInput =
  | { kind: 'response'; status: number }
  | { kind: 'timer'; timer: ClientTimer }
  | { kind: 'transport-error' }
  /** A CANCEL for this INVITE went out: Timer B is re-armed (RFC 3261 §9.1, 64·T1). */
  | { kind: 'cancel-sent' };

/** Actions. */
export type ClientTxAction =
  /** Pass the request to the transport again. */
  | { do: 'retransmit' }
  /** Send the ACK for a 300-699 response (RFC 3261 §17.1.1.3). */
  | { do: 'ack' }
  /** Pass the response to the TU. */
  | { do: 'pass' }
  /** Tell the TU the transaction timed out (RFC 3261 §17.1.1.2, §17.1.2.2). */
  | { do: 'timeout' }
  /** Tell the TU the transport failed (RFC 3261 §17.1.4). */
  | { do: 'transport-error' }
  | { do: 'start'; timer: ClientTimer; interval?: RetransmitInterval }
  | { do: 'stop'; timer: ClientTimer };

/** Result of one step. */
export interface ClientTxStep {
  state: ClientTxState;
  actions: ClientTxAction[];
}

const start = (timer: ClientTimer, interval?: RetransmitInterval): ClientTxAction =>
  interval ? { do: 'start', timer, interval } : { do: 'start', timer };
const stop = (timer: ClientTimer): ClientTxAction => ({ do: 'stop', timer });
const stay = (state: ClientTxState, ...actions: ClientTxAction[]): ClientTxStep => ({ state, actions });

/** The first step, once the request is handed to the transport (RFC 3261 §17.1.1.2, §17.1.2.2). */
export function startClientTx(invite: boolean, reliable: boolean): ClientTxStep {
  if (invite) return stay('calling', ...(reliable ? [] : [start('A', 'initial')]), start('B'));
  return stay('trying', ...(reliable ? [] : [start('E', 'initial')]), start('F'));
}

/** The ACK goes out before the response is passed up, so a TU that reacts at once (a digest retry) cannot overtake it on the wire. */
function inviteFinal(status: number, reliable: boolean, ...before: ClientTxAction[]): ClientTxStep {
  if (status < 300) return stay('accepted', ...before, { do: 'pass' }, start('M'));
  if (reliable) return stay('terminated', ...before, { do: 'ack' }, { do: 'pass' });
  return stay('completed', ...before, { do: 'ack' }, { do: 'pass' }, start('D'));
}

/** One step of the INVITE client transaction (RFC 3261 Figure 5, RFC 6026 Figure 3). */
export function stepInviteClient(state: ClientTxState, input: ClientTxInput, reliable: boolean): ClientTxStep {
  if (input.kind === 'transport-error') {
    return state === 'calling' || state === 'proceeding' || state === 'completed' ? stay('terminated', { do: 'transport-error' }) : stay(state);
  }
  switch (state) {
    case 'calling':
      if (input.kind === 'timer' && input.timer === 'A') return stay('calling', { do: 'retransmit' }, start('A', 'backoff'));
      if (input.kind === 'timer' && input.timer === 'B') return stay('terminated', { do: 'timeout' });
      if (input.kind === 'response') {
        if (input.status < 200) return stay('proceeding', stop('A'), stop('B'), { do: 'pass' });
        return inviteFinal(input.status, reliable, stop('A'), stop('B'));
      }
      return stay(state);
    case 'proceeding':
      if (input.kind === 'cancel-sent') return stay('proceeding', start('B'));
      if (input.kind === 'timer' && input.timer === 'B') return stay('terminated', { do: 'timeout' });
      if (input.kind === 'response') {
        if (input.status < 200) return stay('proceeding', { do: 'pass' });
        return inviteFinal(input.status, reliable, stop('B'));
      }
      return stay(state);
    case 'completed':
      if (input.kind === 'response' && input.status >= 300) return stay('completed', { do: 'ack' });
      if (input.kind === 'timer' && input.timer === 'D') return stay('terminated');
      return stay(state);
    case 'accepted':
      if (input.kind === 'response' && input.status >= 200 && input.status < 300) return stay('accepted', { do: 'pass' });
      if (input.kind === 'timer' && input.timer === 'M') return stay('terminated');
      return stay(state);
    default:
      return stay(state);
  }
}

/** One step of the non-INVITE client transaction (RFC 3261 Figure 6). */
export function stepNonInviteClient(state: ClientTxState, input: ClientTxInput, reliable: boolean): ClientTxStep {
  if (input.kind === 'transport-error') {
    return state === 'trying' || state === 'proceeding' ? stay('terminated', { do: 'transport-error' }) : stay(state);
  }
  switch (state) {
    case 'trying':
    case 'proceeding':
      if (input.kind === 'timer' && input.timer === 'E') {
        return stay(state, { do: 'retransmit' }, start('E', state === 'trying' ? 'backoff' : 'cap'));
      }
      if (input.kind === 'timer' && input.timer === 'F') return stay('terminated', { do: 'timeout' });
      if (input.kind === 'response') {
        if (input.status < 200) return stay('proceeding', { do: 'pass' });
        if (reliable) return stay('terminated', { do: 'pass' });
        return stay('completed', stop('E'), stop('F'), { do: 'pass' }, start('K'));
      }
      return stay(state);
    case 'completed':
      if (input.kind === 'timer' && input.timer === 'K') return stay('terminated');
      return stay(state);
    default:
      return stay(state);
  }
}
