/** The pure state machines (RFC 3261 Figures 5-8, RFC 6026 Figures 3 and 5), step by step. */
import { describe, it, expect } from 'vitest';
import { startClientTx, stepInviteClient, stepNonInviteClient } from '../../../runtime/transaction/client-tx-fsm.js';
import { initialServerState, stepInviteServer, stepNonInviteServer } from '../../../runtime/transaction/server-tx-fsm.js';
import { deriveTimers, nextInterval } from '../../../runtime/transaction/timers.js';

const acts = (step: { actions: Array<{ do: string; timer?: string }> }): string[] => step.actions.map((a) => (a.timer ? `${a.do} ${a.timer}` : a.do));

describe('timers', () => {
  it('derives RFC 3261 Table 4 from T1/T2/T4 and applies overrides', () => {
    expect(deriveTimers()).toEqual({ T1: 500, T2: 4000, T4: 5000, A: 500, B: 32000, D: 32000, E: 500, F: 32000, G: 500, H: 32000, I: 5000, J: 32000, K: 5000, L: 32000, M: 32000 });
    expect(deriveTimers({ T1: 100, D: 50 })).toMatchObject({ A: 100, B: 6400, D: 50, F: 6400 });
    expect(deriveTimers({ T1: 1000 }).D).toBe(64000);
    expect(() => deriveTimers({ T1: 0 })).toThrow(RangeError);
  });

  it('backs off retransmit intervals up to the cap', () => {
    expect(nextInterval('initial', 500, 0, 4000)).toBe(500);
    expect(nextInterval('backoff', 500, 2000, 4000)).toBe(4000);
    expect(nextInterval('backoff', 500, 4000, 4000)).toBe(4000);
    expect(nextInterval('backoff', 500, 16000, Infinity)).toBe(32000);
    expect(nextInterval('cap', 500, 500, 4000)).toBe(4000);
  });
});

describe('INVITE client', () => {
  it('starts in calling with A (UDP only) and B', () => {
    expect(acts(startClientTx(true, false))).toEqual(['start A', 'start B']);
    expect(acts(startClientTx(true, true))).toEqual(['start B']);
  });

  it('follows Figure 5 with the RFC 6026 Accepted state', () => {
    expect(stepInviteClient('calling', { kind: 'timer', timer: 'A' }, false)).toMatchObject({ state: 'calling' });
    expect(stepInviteClient('calling', { kind: 'timer', timer: 'B' }, false)).toEqual({ state: 'terminated', actions: [{ do: 'timeout' }] });
    expect(acts(stepInviteClient('calling', { kind: 'response', status: 180 }, false))).toEqual(['stop A', 'stop B', 'pass']);
    expect(acts(stepInviteClient('proceeding', { kind: 'response', status: 200 }, false))).toEqual(['stop B', 'pass', 'start M']);
    expect(stepInviteClient('proceeding', { kind: 'response', status: 486 }, false)).toMatchObject({ state: 'completed' });
    expect(acts(stepInviteClient('proceeding', { kind: 'response', status: 486 }, false))).toEqual(['stop B', 'ack', 'pass', 'start D']);
    expect(stepInviteClient('proceeding', { kind: 'response', status: 486 }, true)).toMatchObject({ state: 'terminated' });
    expect(acts(stepInviteClient('completed', { kind: 'response', status: 486 }, false))).toEqual(['ack']);
    expect(stepInviteClient('completed', { kind: 'timer', timer: 'D' }, false).state).toBe('terminated');
    expect(acts(stepInviteClient('accepted', { kind: 'response', status: 200 }, false))).toEqual(['pass']);
    expect(acts(stepInviteClient('accepted', { kind: 'response', status: 486 }, false))).toEqual([]);
    expect(stepInviteClient('accepted', { kind: 'timer', timer: 'M' }, false).state).toBe('terminated');
    expect(acts(stepInviteClient('proceeding', { kind: 'cancel-sent' }, false))).toEqual(['start B']);
    expect(stepInviteClient('proceeding', { kind: 'transport-error' }, false)).toEqual({ state: 'terminated', actions: [{ do: 'transport-error' }] });
  });
});

describe('non-INVITE client', () => {
  it('follows Figure 6', () => {
    expect(acts(startClientTx(false, false))).toEqual(['start E', 'start F']);
    expect(stepNonInviteClient('trying', { kind: 'timer', timer: 'E' }, false).actions).toEqual([{ do: 'retransmit' }, { do: 'start', timer: 'E', interval: 'backoff' }]);
    expect(stepNonInviteClient('proceeding', { kind: 'timer', timer: 'E' }, false).actions).toEqual([{ do: 'retransmit' }, { do: 'start', timer: 'E', interval: 'cap' }]);
    expect(stepNonInviteClient('trying', { kind: 'response', status: 100 }, false).state).toBe('proceeding');
    expect(acts(stepNonInviteClient('proceeding', { kind: 'response', status: 200 }, false))).toEqual(['stop E', 'stop F', 'pass', 'start K']);
    expect(stepNonInviteClient('trying', { kind: 'response', status: 404 }, true)).toEqual({ state: 'terminated', actions: [{ do: 'pass' }] });
    expect(acts(stepNonInviteClient('completed', { kind: 'response', status: 200 }, false))).toEqual([]);
    expect(stepNonInviteClient('completed', { kind: 'timer', timer: 'K' }, false).state).toBe('terminated');
    expect(stepNonInviteClient('proceeding', { kind: 'timer', timer: 'F' }, false)).toEqual({ state: 'terminated', actions: [{ do: 'timeout' }] });
  });
});

describe('INVITE server', () => {
  it('follows Figure 7 with the RFC 6026 Accepted state', () => {
    expect(initialServerState(true)).toBe('proceeding');
    expect(acts(stepInviteServer('proceeding', { kind: 'request' }, false))).toEqual(['resend']);
    expect(acts(stepInviteServer('proceeding', { kind: 'respond', status: 180 }, false))).toEqual(['send']);
    expect(stepInviteServer('proceeding', { kind: 'respond', status: 200 }, false)).toMatchObject({ state: 'accepted' });
    expect(acts(stepInviteServer('proceeding', { kind: 'respond', status: 486 }, false))).toEqual(['send', 'start G', 'start H']);
    expect(acts(stepInviteServer('proceeding', { kind: 'respond', status: 486 }, true))).toEqual(['send', 'start H']);
    expect(acts(stepInviteServer('completed', { kind: 'timer', timer: 'G' }, false))).toEqual(['resend', 'start G']);
    expect(acts(stepInviteServer('completed', { kind: 'ack' }, false))).toEqual(['stop G', 'stop H', 'start I']);
    expect(stepInviteServer('completed', { kind: 'ack' }, true).state).toBe('terminated');
    expect(stepInviteServer('completed', { kind: 'timer', timer: 'H' }, false)).toEqual({ state: 'terminated', actions: [{ do: 'timeout' }] });
    expect(acts(stepInviteServer('completed', { kind: 'respond', status: 500 }, false))).toEqual(['refuse']);
    expect(acts(stepInviteServer('confirmed', { kind: 'ack' }, false))).toEqual([]);
    expect(stepInviteServer('confirmed', { kind: 'timer', timer: 'I' }, false).state).toBe('terminated');
    expect(acts(stepInviteServer('accepted', { kind: 'request' }, false))).toEqual([]);
    expect(acts(stepInviteServer('accepted', { kind: 'respond', status: 200 }, false))).toEqual(['send']);
    expect(acts(stepInviteServer('accepted', { kind: 'respond', status: 486 }, false))).toEqual(['refuse']);
    expect(acts(stepInviteServer('accepted', { kind: 'ack' }, false))).toEqual(['pass-ack']);
    expect(stepInviteServer('accepted', { kind: 'timer', timer: 'L' }, false).state).toBe('terminated');
  });
});

describe('non-INVITE server', () => {
  it('follows Figure 8', () => {
    expect(initialServerState(false)).toBe('trying');
    expect(acts(stepNonInviteServer('trying', { kind: 'request' }, false))).toEqual([]);
    expect(stepNonInviteServer('trying', { kind: 'respond', status: 100 }, false)).toEqual({ state: 'proceeding', actions: [{ do: 'send' }] });
    expect(acts(stepNonInviteServer('proceeding', { kind: 'request' }, false))).toEqual(['resend']);
    expect(acts(stepNonInviteServer('proceeding', { kind: 'respond', status: 200 }, false))).toEqual(['send', 'start J']);
    expect(stepNonInviteServer('trying', { kind: 'respond', status: 200 }, true)).toEqual({ state: 'terminated', actions: [{ do: 'send' }] });
    expect(acts(stepNonInviteServer('completed', { kind: 'request' }, false))).toEqual(['resend']);
    expect(acts(stepNonInviteServer('completed', { kind: 'respond', status: 200 }, false))).toEqual(['refuse']);
    expect(stepNonInviteServer('completed', { kind: 'timer', timer: 'J' }, false).state).toBe('terminated');
    expect(stepNonInviteServer('trying', { kind: 'transport-error' }, false)).toEqual({ state: 'terminated', actions: [{ do: 'transport-error' }] });
  });
});
