/**
 * The verb runner, seen from the caller's phone and the web app: each verb
 * of a document, Redirect between documents, and a document that ends.
 * Loop transport and fake clock (test/support/call-stack.ts).
 */
import { describe, expect, it } from 'vitest';
import { callStackPerTest, type CallStack } from '../support/call-stack.js';
import type { SipParty } from '../support/sip-party.js';
import type { Route } from '../support/web-app.js';

const startStack = callStackPerTest();

/** A rig with `routes`, and a caller. */
async function start(routes: Record<string, Route>): Promise<{ rig: CallStack; alice: SipParty }> {
  const rig = await startStack({ routes });
  return { rig, alice: await rig.party('alice') };
}

const statuses = (r: CallStack): string[] => r.app.to('/status').map((q) => q.params.CallStatus ?? '');

describe('the verb runner', () => {
  it('<Hangup/> before anything answered: the caller gets 180 then 603, and one completed status callback (duration 0)', async () => {
    const { rig, alice } = await start({ '/voice': '<Response><Hangup/></Response>' });
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the final response');
    expect(call.provisional.map((r) => r.statusCode)).toEqual([180]);
    expect(call.status).toBe(603);
    const [voice] = rig.app.to('/voice');
    expect(voice!.method).toBe('POST');
    expect(voice!.signatureValid).toBe(true);
    expect(voice!.params).toMatchObject({ CallStatus: 'ringing', Direction: 'inbound', To: rig.uri('support') });
    await rig.until(() => rig.app.to('/status').length > 0, 'the status callback');
    expect(rig.app.to('/status')).toHaveLength(1);
    expect(rig.app.to('/status')[0]!.params).toMatchObject({ CallStatus: 'completed', CallDuration: '0', Direction: 'inbound' });
  });

  it('<Reject reason="busy"/> answers 486 Busy Here; <Reject/> answers 603 Decline; the completed callback says busy / failed', async () => {
    const { rig, alice } = await start({ '/voice': '<Response><Reject reason="busy"/></Response>' });
    const busy = alice.call(rig.uri('support'));
    await rig.until(() => busy.status > 0, 'the busy call');
    expect(busy.status).toBe(486);
    expect(busy.final!.reason).toBe('Busy Here');
    await rig.until(() => rig.app.to('/status').length === 1, 'its callback');
    expect(statuses(rig)).toEqual(['busy']);

    rig.app.route('/voice', '<Response><Reject/></Response>');
    const declined = alice.call(rig.uri('support'));
    await rig.until(() => declined.status > 0, 'the declined call');
    expect(declined.status).toBe(603);
    expect(declined.final!.reason).toBe('Decline');
    await rig.until(() => rig.app.to('/status').length === 2, 'its callback');
    expect(statuses(rig)[1]).toBe('failed');
  });

  it('<Redirect> follows GET and POST (POST by default) with the call parameters, relative to the document URL', async () => {
    const { rig, alice } = await start({
      '/voice': '<Response><Redirect method="GET">/second?step=2</Redirect><Hangup/></Response>',
      '/second': '<Response><Redirect>third</Redirect></Response>',
      '/third': '<Response><Reject reason="busy"/></Response>',
    });
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the final response');
    expect(call.status, 'the third document ran, not the <Hangup/> after the first Redirect').toBe(486);
    const [second] = rig.app.to('/second');
    expect(second!.method).toBe('GET');
    expect(second!.params).toMatchObject({ step: '2', CallStatus: 'ringing' });
    expect(second!.params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(second!.signatureValid).toBe(true);
    const [third] = rig.app.to('/third');
    expect(third!.method).toBe('POST');
    expect(third!.params.CallSid).toBe(second!.params.CallSid);
    expect(third!.signatureValid).toBe(true);
  });

  it('<Pause length="3"/> waits three seconds (fake clock) before the next verb', async () => {
    const { rig, alice } = await start({ '/voice': '<Response><Pause length="3"/><Reject reason="busy"/></Response>' });
    const started = rig.clock.now();
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.provisional.length > 0, 'ringing');
    await rig.until(() => rig.clock.now() - started >= 2900, '2.9 s');
    expect(call.status, 'still ringing during the pause').toBe(0);
    await rig.until(() => call.status > 0, 'the final response');
    expect(call.status).toBe(486);
    expect(rig.clock.now() - started).toBeGreaterThanOrEqual(3000);
    expect(rig.clock.now() - started).toBeLessThan(3500);
  });

  it('an unsupported verb is skipped with a 12200 warning naming it, and the next verb runs', async () => {
    const { rig, alice } = await start({ '/voice': '<Response><Say>Hello</Say><Reject reason="busy"/></Response>' });
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the final response');
    expect(call.status).toBe(486);
    const warnings = rig.alerts().filter((a) => a.code === 12200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('warning');
    expect(warnings[0]!.message).toContain('Say');
    expect(warnings[0]!.callSid).toBe(rig.app.to('/voice')[0]!.params.CallSid);
  });

  it('a document that ends without a final verb ends the call: unanswered, the caller gets 603', async () => {
    const { rig, alice } = await start({ '/voice': '<Response><Pause length="1"/></Response>' });
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the final response');
    expect(call.status).toBe(603);
    await rig.until(() => rig.app.to('/status').length > 0, 'the status callback');
  });

  it('a document that ends after a Dial was answered: the caller gets BYE', async () => {
    const { rig, alice } = await start({});
    const bob = await rig.party('bob');
    rig.app.route('/voice', `<Response><Dial><Sip>${bob.uri}</Sip></Dial></Response>`);
    bob.answer = [{ status: 200 }];
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status === 200, 'the answer');
    await bob.dialogs[0]!.bye();
    await rig.until(() => alice.requests('BYE').length > 0, 'the BYE to the caller');
    expect(statuses(rig)).toEqual(['completed']);
  });

  it('a document the web app cannot serve (404) ends the unanswered call with 500 and Twilio error 11200 in Reason', async () => {
    const { rig, alice } = await start({ '/voice': { status: 404, body: 'no' } });
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the final response');
    expect(call.status).toBe(500);
    expect(call.final!.header('Reason')).toContain('Twilio error 11200');
    expect(rig.alerts().some((a) => a.code === 11200 && a.level === 'error')).toBe(true);
  });
});

describe('the verb runner on a dialled phone\'s screening document (<Sip url>)', () => {
  it('Pause waits, an unsupported verb warns 12200 on the phone\'s call, <Hangup/> declines the phone (BYE): the caller is never connected', async () => {
    const { rig, alice } = await start({ '/screen': '<Response><Pause length="1"/><Say>press 1</Say><Hangup/></Response>', '/action': '<Response/>' });
    const bob = await rig.party('bob');
    rig.app.route('/voice', `<Response><Dial action="/action" answerOnBridge="true"><Sip url="/screen">${bob.uri}</Sip></Dial></Response>`);
    const call = alice.call(rig.uri('support'));
    await rig.until(() => bob.requests('BYE').length > 0, 'the phone hung up');
    const screen = rig.app.to('/screen')[0]!;
    expect(screen.params).toMatchObject({ Direction: 'outbound-dial', CallStatus: 'in-progress' });
    expect(bob.dialogs[0]!.firstAt('BYE')! - bob.incoming[0]!.answeredAt!, 'after the 1 s pause').toBeGreaterThanOrEqual(1000);
    const warning = rig.alerts().find((a) => a.code === 12200);
    expect(warning?.callSid, 'the warning is on the phone\'s call').toBe(screen.params.CallSid);
    await rig.until(() => call.status > 0, 'the caller\'s final response');
    expect(call.status, 'never answered: the action document ended it').toBe(603);
    expect(rig.app.to('/action')[0]!.params).toMatchObject({ DialBridged: 'false', DialCallSid: screen.params.CallSid });
  });

  it('a screening document that ends without hanging up connects the phone to the caller', async () => {
    const { rig, alice } = await start({ '/screen': '<Response><Pause length="1"/></Response>', '/action': '<Response/>' });
    const bob = await rig.party('bob');
    rig.app.route('/voice', `<Response><Dial action="/action" answerOnBridge="true"><Sip url="/screen">${bob.uri}</Sip></Dial></Response>`);
    const call = alice.call(rig.uri('support'));
    await rig.until(() => call.status > 0, 'the caller\'s final response');
    expect(call.status).toBe(200);
    expect(rig.clock.now() - bob.incoming[0]!.answeredAt!, 'after the screening pause').toBeGreaterThanOrEqual(1000);
    expect((await rig.untilResolved(call.dialog!.request('INFO')))?.statusCode, 'connected: a request goes across').toBe(200);
    expect(bob.requests('INFO')).toHaveLength(1);
    await call.dialog!.bye();
    await rig.until(() => bob.requests('BYE').length > 0, 'the caller\'s BYE reaches the phone');
  });
});
