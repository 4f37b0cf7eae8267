/**
 * No exception escapes a call's handlers, and a leg that is gone ends the
 * call: faults are injected below the call layer (a message whose building
 * throws, as the serializer does for a value it refuses; a message the
 * network loses), and the tests check what the parties and the
 * application see, and that nothing stays live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startLine } from '../../support/sip-stack.js';
import { CALLEE_PORT, CALLER_PORT, callRig, callbacks, records, sentTo, type Rig } from './call-rig.js';

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function rig(...args: Parameters<typeof callRig>): Promise<Rig> {
  const r = await callRig(...args);
  rigs.push(r);
  return r;
}

const dial = (attrs = ''): string => `<Response><Dial ${attrs}><Sip>sip:agent@127.0.0.1:${CALLEE_PORT}</Sip></Dial></Response>`;

/** Nothing of the call is left: no session, no dialog. */
async function settled(r: Rig): Promise<void> {
  await r.until(() => r.layer.size === 0 && r.registry.size === 0, 'no call and no dialog live');
}

describe('a message of a call that cannot be built ends that call only', () => {
  it('the 180 to the caller: the caller gets 500, the record is failed, its completed callback is sent', async () => {
    const r = await rig({ '/voice': dial() }, { response: (m) => m.status === 180 });
    const caller = r.call();
    await r.until(() => caller.status !== 0, 'the caller gets a final response');
    expect(caller.status).toBe(500);
    await settled(r);
    const { parent } = records(r);
    expect(parent?.status).toBe('failed');
    await r.until(() => callbacks(r, parent!.sid).length > 0, 'the completed callback');
    expect(callbacks(r, parent!.sid)).toEqual(['failed']);
    expect(r.errors.filter((e) => e.msg === 'call failed').map((e) => e.fields.where)).toContain('inbound INVITE');
  });

  it('the 200 to the caller when the dialled party answers: the dialled party gets ACK and BYE, the caller 500', async () => {
    const r = await rig({ '/voice': dial('answerOnBridge="true"') }, { response: (m, tx) => m.status === 200 && tx.method === 'INVITE' });
    const caller = r.call();
    await r.until(() => caller.status !== 0, 'the caller gets a final response');
    expect(caller.status).toBe(500);
    await r.until(() => r.calleeUa.byes === 1, 'the dialled party gets BYE');
    expect(r.calleeUa.acks).toBe(1);
    await settled(r);
    const { parent, children } = records(r);
    expect(parent?.status).toBe('failed');
    expect(children.map((c) => c.status)).toEqual(['completed']);
    await r.until(() => callbacks(r, parent!.sid).length > 0, 'the completed callback');
    expect(callbacks(r, parent!.sid)).toEqual(['failed']);
  });

  it('the BYE to the dialled party when the caller hangs up: the caller gets 200, the dialled leg ends, the lost BYE is logged', async () => {
    const r = await rig({ '/voice': dial('answerOnBridge="true"') }, { request: (m) => m.method === 'BYE' && m.uri.includes(`:${CALLEE_PORT}`) });
    const caller = r.call();
    await r.until(() => caller.status === 200 && r.registry.size === 2, 'the call is connected');
    await caller.hangup();
    await settled(r);
    const { parent, children } = records(r);
    expect(parent?.status).toBe('completed');
    expect(children.map((c) => c.status)).toEqual(['completed']);
    expect(r.errors.some((e) => e.msg === 'message not sent' && e.fields.what === 'BYE')).toBe(true);
  });

  it('a REST cancel whose 603 to the caller cannot be built: answered with the record, the caller gets 500, the ringing party CANCEL', async () => {
    const r = await rig({ '/voice': dial('answerOnBridge="true"') }, { response: (m) => m.status === 603 }, { answer: false });
    const caller = r.call();
    await r.until(() => r.calleeUa.dialog !== undefined, 'the dialled party rings');
    const sid = records(r).parent!.sid;
    const result = r.layer.end(sid, 'canceled');
    expect(result).toMatchObject({ ok: true, value: { sid } });
    await r.until(() => caller.status !== 0 && r.calleeUa.cancels === 1, 'the caller is answered and the dialled party cancelled');
    expect(caller.status).toBe(500);
    await settled(r);
    expect(records(r).children.map((c) => c.status)).toEqual(['canceled']);
  });
});

describe('a re-INVITE that gets no answer ends the call (RFC 3261 §12.2.1.2)', () => {
  it('relayed from the dialled party to a caller that never answers it (Timer B): 408 to the dialled party, BYE on both legs', async () => {
    const r = await rig({ '/voice': dial('answerOnBridge="true"') });
    const caller = r.call();
    await r.until(() => caller.status === 200 && r.registry.size === 2, 'the call is connected');
    r.pb.transport.discardWhen((bytes, d) => d.port === CALLER_PORT && startLine(bytes).startsWith('INVITE '));
    let reinvite = -1;
    void r.calleeUa.request('INVITE', new TextEncoder().encode('v=0\r\no=- 5080 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 15080 RTP/AVP 0\r\n')).then((s) => { reinvite = s; });
    await r.until(() => reinvite !== -1, 'the re-INVITE is answered');
    expect(reinvite).toBe(408);
    await r.until(() => caller.byes === 1 && r.calleeUa.byes === 1, 'both legs get BYE');
    await settled(r);
    const { parent, children } = records(r);
    expect(parent?.status).toBe('completed');
    expect(children.map((c) => c.status)).toEqual(['completed']);
  });

  it("of the caller with the dialled party's offer (late offer) timing out: both legs get BYE, the action's TwiML is not run", async () => {
    const r = await rig({ '/voice': dial('action="/after"'), '/after': dial() });
    const caller = r.call();
    await r.until(() => caller.status === 200, 'the caller is answered on hold');
    r.pb.transport.discardWhen((bytes, d) => d.port === CALLER_PORT && startLine(bytes).startsWith('INVITE '));
    await r.until(() => caller.byes === 1 && r.calleeUa.byes === 1, 'both legs get BYE');
    expect(r.calleeUa.acks).toBe(1);
    await settled(r);
    // the action is told (DialCallStatus failed), and its <Dial> does not ring anyone for a caller who is gone
    await r.until(() => r.webhooks.some((w) => w.path === '/after'), 'the action request');
    expect(r.webhooks.find((w) => w.path === '/after')?.params.get('DialCallStatus')).toBe('failed');
    expect(sentTo(r, CALLEE_PORT).filter((l) => l.startsWith('INVITE ')).length).toBe(1);
    expect(records(r).parent?.status).toBe('completed');
  });

  it('of the caller with a transfer target that answered (answerOnBridge): both legs get BYE, the transfer is logged as answered but not connected', async () => {
    const r = await rig({ '/voice': dial('answerOnBridge="true" referUrl="/refer"'), '/refer': `<Response><Dial answerOnBridge="true"><Sip>sip:target@127.0.0.1:${CALLEE_PORT}</Sip></Dial></Response>` });
    const transfers: Array<{ stage: string; detail?: string }> = [];
    r.store.on((e) => { if (e.type === 'transfer') transfers.push({ stage: e.stage, detail: e.detail }); });
    const caller = r.call();
    await r.until(() => caller.status === 200 && r.registry.size === 2, 'the call is connected');
    const transferor = r.calleeUa.dialog!;
    r.pb.transport.discardWhen((bytes, d) => d.port === CALLER_PORT && startLine(bytes).startsWith('INVITE '));
    let refer = -1;
    void r.calleeUa.request('REFER', undefined, [['Refer-To', `<sip:target@127.0.0.1:${CALLEE_PORT}>`], ['Refer-Sub', 'false']], transferor).then((s) => { refer = s; });
    await r.until(() => refer !== -1, 'the REFER is answered');
    expect(refer).toBe(202);
    await r.until(() => caller.byes === 1 && transfers.some((t) => t.stage === 'failed'), 'the caller gets BYE and the transfer ends');
    await settled(r);
    expect(r.calleeUa.byes, 'the transferor and the answered target get BYE').toBe(2);
    expect(transfers.find((t) => t.stage === 'failed')?.detail).toBe('transfer target answered, but the caller could not be connected to it');
    expect(records(r).children.map((c) => c.status)).toEqual(['completed', 'completed']);
  });
});
