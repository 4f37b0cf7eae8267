/**
 * UacLeg sends an ACK only to the dialog it belongs to, while it lives: a
 * late-offer 2xx whose far end has hung up in the meantime gets no ACK
 * (its address may belong to someone else by then), and a stray 2xx of
 * another request (a re-INVITE's) is not answered with the INVITE's ACK.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UacLeg } from '../../../runtime/dialog/uac-leg.js';
import { createRequest } from '../../../runtime/sip/build.js';
import { loopPair, sentLines, type LoopStack } from '../../support/sip-stack.js';
import { parserFor } from '../../support/wasm.js';

const SDP = new TextEncoder().encode('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n');
const stacks: LoopStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.layer.close();
});

async function answeredLeg(body?: Uint8Array) {
  const { clock, uac, uas } = await loopPair();
  stacks.push(uac, uas);
  uas.tx.onRequest((tx) => {
    tx.respond(tx.createResponse(200, 'OK', { toTag: 'callee', headers: [['Contact', '<sip:bob@127.0.0.1:5080>'], ['Content-Type', 'application/sdp']], body: SDP }));
  });
  const invite = createRequest('INVITE', 'sip:bob@127.0.0.1:5080', { from: '<sip:pb@127.0.0.1:5070>', to: '<sip:bob@127.0.0.1:5080>', contact: '<sip:pb@127.0.0.1:5070>', body, headers: body ? [['Content-Type', 'application/sdp']] : [] });
  let answered = false;
  const leg = new UacLeg({ transactions: uac.tx, transport: uac.layer, contact: '<sip:pb@127.0.0.1:5070>' }, invite, uas.address, {
    provisional: () => undefined, answered: () => { answered = true; }, failed: () => undefined,
  });
  leg.start();
  for (let i = 0; i < 20 && !answered; i++) await clock.advance(10);
  expect(answered).toBe(true);
  const acks = (): number => sentLines(uac.transport).filter(([, l]) => l.startsWith('ACK ')).length;
  return { leg, acks };
}

describe('UacLeg ACKs', () => {
  it('a late-offer 2xx whose far end hung up before the answer was known gets no ACK', async () => {
    const { leg, acks } = await answeredLeg();
    expect(acks()).toBe(0); // waiting for the answer (completeAck)
    leg.ended(); // the far end's BYE
    leg.completeAck(SDP, 'application/sdp');
    expect(acks()).toBe(0);
  });

  it('a late-offer 2xx is ACKed with the answer while the leg lives', async () => {
    const { leg, acks } = await answeredLeg();
    leg.completeAck(SDP, 'application/sdp');
    expect(acks()).toBe(1);
  });

  it("a stray 2xx of a re-INVITE (CSeq 2) is not answered with the INVITE's ACK; the INVITE's own is", async () => {
    const { leg, acks } = await answeredLeg(SDP);
    expect(acks()).toBe(1);
    const parser = parserFor('release');
    const stray = (cseq: number): Uint8Array => new TextEncoder().encode([
      'SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKgone', `From: <sip:pb@127.0.0.1:5070>;tag=${leg.dialog!.state.localTag}`,
      `To: <sip:bob@127.0.0.1:5080>;tag=callee`, `Call-ID: ${leg.callId}`, `CSeq: ${cseq} INVITE`, 'Contact: <sip:bob@127.0.0.1:5080>', 'Content-Length: 0', '', ''].join('\r\n'));
    leg.ackRetransmission(parser.parse(stray(2)));
    expect(acks()).toBe(1);
    leg.ackRetransmission(parser.parse(stray(1)));
    expect(acks()).toBe(2);
  });
});
