/**
 * TransactionLayer.settle(): what a draining daemon waits for before it
 * closes its sockets. It resolves once no transaction still waits for the
 * far end (client transactions before their final response, an INVITE
 * server transaction's non-2xx final response before its ACK), or when
 * its time is up. Loop transport and fake clock.
 */
import { describe, expect, it } from 'vitest';
import { loopPair, testRequest } from '../../support/sip-stack.js';

/** Track when `promise` resolves. */
function watch(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => { state.done = true; });
  return state;
}

describe('TransactionLayer.settle', () => {
  it('resolves at once when no transaction waits for the far end', async () => {
    const { clock, uac, uas } = await loopPair();
    const settled = watch(uac.tx.settle(5000));
    await clock.flush();
    expect(settled.done).toBe(true);
    uac.tx.close();
    uas.tx.close();
  });

  it('waits for a client transaction\'s final response, and no longer', async () => {
    const { clock, uac, uas } = await loopPair();
    let answer: (() => void) | undefined;
    uas.tx.onRequest((tx) => { answer = () => tx.respond(tx.createResponse(200)); });
    uac.tx.request(testRequest('BYE'), uas.address);
    await clock.flush();
    const settled = watch(uac.tx.settle(5000));
    await clock.advance(1000);
    expect(settled.done).toBe(false);
    answer!();
    await clock.advance(50);
    expect(settled.done).toBe(true);
    uac.tx.close();
    uas.tx.close();
  });

  it('gives up after maxMs when the far end never answers', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest(() => undefined);
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    const settled = watch(uac.tx.settle(2000));
    await clock.advance(1990);
    expect(settled.done).toBe(false);
    await clock.advance(20);
    expect(settled.done).toBe(true);
    uac.tx.close();
    uas.tx.close();
  });

  it('waits while a non-2xx final response (a drain\'s 503) awaits its ACK, retransmitting it', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((tx) => { tx.respond(tx.createResponse(503)); });
    uac.transport.discardWhen((bytes) => bytes[0] === 0x41); // the ACKs are lost
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    const settled = watch(uas.tx.settle(10_000));
    await clock.advance(1600);
    expect(settled.done).toBe(false);
    uac.transport.discardWhen(undefined);
    await clock.advance(2100); // the next retransmission of the 503 (Timer G) is ACKed
    expect(settled.done).toBe(true);
    const finals = uas.transport.sent.filter((s) => new TextDecoder().decode(s.bytes).startsWith('SIP/2.0 503'));
    expect(finals.length).toBeGreaterThan(1);
    uac.tx.close();
    uas.tx.close();
  });
});
