/**
 * Server transactions and the layer's matching over the loop transport with
 * the fake clock: 100 Trying, Timer G retransmissions and Timer H, ACK
 * absorption (I), non-INVITE Completed (J), RFC 6026 Accepted (L) absorbing
 * a retransmitted INVITE, CANCEL (200/481, 487, Timer B re-armed), 2xx ACKs
 * and stray responses passed up, received/rport stamped into responses.
 */
import { describe, it, expect } from 'vitest';
import type { ServerTx } from '../../../runtime/transaction/server-tx.js';
import { createRequest } from '../../../runtime/sip/build.js';
import { newBranch } from '../../../runtime/sip/ids.js';
import { serializeRequest } from '../../../runtime/sip/serialize.js';
import { loopPair, sentLines, testRequest, type LoopStack } from '../../support/sip-stack.js';

function expectNoTransactions(...stacks: LoopStack[]): void {
  for (const s of stacks) expect(s.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('INVITE server transaction', () => {
  it('sends 100 Trying at once and stamps received/rport into the top Via of every response', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest(() => undefined);
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    const trying = text(uas.transport.sent[0]!.bytes);
    expect(trying).toMatch(/^SIP\/2\.0 100 Trying\r\n/);
    expect(trying).toMatch(/Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5070;branch=z9hG4bK[\w-]+;rport=5070;received=127\.0\.0\.1\r\n/);
    expect(trying).toContain('To: <sip:bob@127.0.0.1:5080>\r\n');
    uac.tx.close();
    uas.tx.close();
  });

  it('sends no 100 Trying when the TU responds while it handles the INVITE', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((tx, request) => {
      if (request.header('Subject') === 'ring') tx.respond(tx.createResponse(180, undefined, { toTag: 'r' }));
    });
    const ringing = testRequest('INVITE');
    ringing.headers.push(['Subject', 'ring']);
    uac.tx.request(ringing, uas.address);
    uac.tx.request(testRequest('INVITE', 2), uas.address);
    await clock.flush();
    expect(sentLines(uas.transport).map(([, l]) => l)).toEqual(['SIP/2.0 180 Ringing', 'SIP/2.0 100 Trying']);
    uac.tx.close();
    uas.tx.close();
  });

  it('retransmits a non-2xx on Timer G (T1 doubling to T2) until Timer H, then reports the timeout', async () => {
    const { clock, uac, uas } = await loopPair();
    let stx: ServerTx | undefined;
    const events: string[] = [];
    uas.tx.onRequest((tx) => {
      stx = tx;
      tx.on('timeout', () => events.push(`${clock.now()} timeout`)).on('terminated', () => events.push(`${clock.now()} terminated`));
      tx.respond(tx.createResponse(500));
    });
    uac.transport.discardWhen((bytes) => text(bytes).startsWith('ACK'));
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.advance(40_000);
    expect(sentLines(uas.transport).filter(([, l]) => l.startsWith('SIP/2.0 500')).map(([at]) => at))
      .toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(events).toEqual(['32000 timeout', '32000 terminated']);
    expect(stx!.state).toBe('terminated');
    expectNoTransactions(uac, uas);
  });

  it('absorbs the ACK for a non-2xx (Confirmed) and ends on Timer I (T4)', async () => {
    const { clock, uac, uas } = await loopPair();
    let stx: ServerTx | undefined;
    const acks: string[] = [];
    uas.tx.onAck((ack) => acks.push(ack.method!));
    uas.tx.onRequest((tx) => {
      stx = tx;
      tx.respond(tx.createResponse(404));
    });
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    expect(stx!.state).toBe('confirmed');
    expect(acks).toEqual([]);
    await clock.advance(4999);
    expect(uas.tx.stats().serverTx).toBe(1);
    await clock.advance(1);
    expect(uas.tx.stats().serverTx).toBe(0);
    expect(sentLines(uas.transport).map(([, l]) => l)).toEqual(['SIP/2.0 404 Not Found']);
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });

  it('absorbs a retransmitted INVITE after a lost 2xx (RFC 6026 Accepted) and ends on Timer L', async () => {
    const { clock, uac, uas } = await loopPair({ trying100: false });
    let requests = 0;
    uas.tx.onRequest((tx) => {
      requests++;
      tx.respond(tx.createResponse(200, undefined, { toTag: 'a' }));
    });
    uas.transport.discardNext(1);
    const ctx = uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.advance(600);
    expect(requests).toBe(1);
    expect(ctx.state).toBe('calling');
    expect(uas.tx.stats().serverTx).toBe(1);
    await clock.advance(32_000 - 600);
    expect(uas.tx.stats().serverTx).toBe(0);
    await clock.advance(10_000);
    expectNoTransactions(uac, uas);
  });

  it('passes the ACK for a 2xx (new branch) to the TU', async () => {
    const { clock, uac, uas } = await loopPair();
    const acks: string[] = [];
    uas.tx.onAck((ack, source) => acks.push(`${ack.method} ${ack.cseqNumber} from ${source.port}`));
    uas.tx.onRequest((tx) => tx.respond(tx.createResponse(200, undefined, { toTag: 'b' })));
    const ctx = uac.tx.request(testRequest('INVITE', 3), uas.address);
    const final = await ctx.outcome;
    expect(final.kind).toBe('response');
    const ack = createRequest('ACK', 'sip:bob@127.0.0.1:5080', { from: '<sip:alice@h>;tag=x', to: '<sip:bob@h>;tag=b', cseq: 3 });
    ack.headers.unshift(['Via', uac.layer.viaFor(uas.address, newBranch())!]);
    ack.headers = ack.headers.map(([n, v]) => (n === 'CSeq' ? [n, '3 ACK'] : [n, v]));
    expect((await uac.tx.write(ack, uas.address)).ok).toBe(true);
    await clock.flush();
    expect(acks).toEqual(['ACK 3 from 5070']);
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });

  it('refuses a second final response as a value', async () => {
    const { clock, uac, uas } = await loopPair();
    const results: string[] = [];
    uas.tx.onRequest((tx) => {
      tx.respond(tx.createResponse(486));
      const again = tx.respond(tx.createResponse(200));
      results.push(again.ok ? 'ok' : again.error.code);
    });
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.advance(40_000);
    expect(results).toEqual(['PB_ERR_TX_STATE']);
    expectNoTransactions(uac, uas);
  });
});

describe('non-INVITE server transaction', () => {
  it('answers retransmissions from Completed and ends on Timer J (64·T1)', async () => {
    const { clock, uac, uas } = await loopPair();
    let requests = 0;
    uas.tx.onRequest((tx) => {
      requests++;
      tx.respond(tx.createResponse(200));
    });
    uas.transport.discardNext(2);
    const ctx = uac.tx.request(testRequest('BYE'), uas.address);
    await clock.advance(2000);
    expect(requests).toBe(1);
    expect(sentLines(uas.transport).map(([at, l]) => `${at} ${l}`)).toEqual(['0 SIP/2.0 200 OK', '500 SIP/2.0 200 OK', '1500 SIP/2.0 200 OK']);
    expect(ctx.state).toBe('completed');
    await clock.advance(29_999);
    expect(uas.tx.stats().serverTx).toBe(1);
    await clock.advance(1);
    expect(uas.tx.stats().serverTx).toBe(0);
    expectNoTransactions(uac, uas);
  });

  it('answers 501 when no request handler is set', async () => {
    const { clock, uac, uas } = await loopPair();
    const ctx = uac.tx.request(testRequest('OPTIONS'), uas.address);
    const outcome = await ctx.outcome;
    expect(outcome.kind === 'response' && outcome.response.statusCode).toBe(501);
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });
});

describe('CANCEL (RFC 3261 §9)', () => {
  it('cancels a ringing INVITE: 200 for the CANCEL, cancel event, 487 ACKed', async () => {
    const { clock, uac, uas } = await loopPair();
    const seen: string[] = [];
    uas.tx.onRequest((tx) => {
      tx.respond(tx.createResponse(180, undefined, { toTag: 'r' }));
      tx.on('cancel', (cancel) => {
        seen.push(`cancel ${cancel.method} ${cancel.branch === tx.request.branch}`);
        tx.respond(tx.createResponse(487, undefined, { toTag: 'r' }));
      });
    });
    const ctx = uac.tx.request(testRequest('INVITE'), uas.address);
    ctx.on('provisional', (r) => { if (r.statusCode === 180) ctx.cancel([['Reason', 'SIP;cause=487']]); });
    const outcome = await ctx.outcome;
    await clock.flush();
    expect(outcome.kind === 'response' && outcome.response.statusCode).toBe(487);
    expect(seen).toEqual(['cancel CANCEL true']);
    expect(sentLines(uac.transport).map(([, l]) => l.split(' ')[0])).toEqual(['INVITE', 'CANCEL', 'ACK']);
    expect(sentLines(uas.transport).map(([, l]) => l)).toEqual(['SIP/2.0 180 Ringing', 'SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated']);
    expect((await ctx.cancelTx!.outcome).kind).toBe('response');
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });

  it('waits for a provisional response before sending CANCEL', async () => {
    const { clock, uac, uas } = await loopPair({ trying100: false });
    let ring = (): void => undefined;
    uas.tx.onRequest((tx) => {
      ring = () => { tx.respond(tx.createResponse(183)); };
      tx.on('cancel', () => tx.respond(tx.createResponse(487)));
    });
    const ctx = uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    ctx.cancel();
    await clock.advance(100);
    expect(sentLines(uac.transport).map(([, l]) => l.split(' ')[0])).toEqual(['INVITE']);
    ring();
    await clock.flush();
    expect(sentLines(uac.transport).map(([, l]) => l.split(' ')[0])).toEqual(['INVITE', 'CANCEL', 'ACK']);
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });

  it('times the INVITE out 64·T1 after a CANCEL that brings no 487 (Timer B re-armed)', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((tx) => { tx.respond(tx.createResponse(180)); });
    const ctx = uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.advance(60_000);
    expect(ctx.state).toBe('proceeding');
    ctx.cancel();
    await clock.advance(31_999);
    expect(ctx.state).toBe('proceeding');
    await clock.advance(1);
    expect(await ctx.outcome).toEqual({ kind: 'timeout' });
    expect(uac.tx.stats().clientTx).toBe(0);
    uas.tx.close();
  });

  it('answers 481 to a CANCEL that matches no INVITE', async () => {
    const { clock, uac, uas } = await loopPair();
    const ctx = uac.tx.request(testRequest('CANCEL'), uas.address);
    const outcome = await ctx.outcome;
    expect(outcome.kind === 'response' && outcome.response.statusCode).toBe(481);
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });
});

describe('stray messages', () => {
  it('passes a response that matches no client transaction to the TU', async () => {
    const { clock, uac, uas } = await loopPair();
    const strays: string[] = [];
    uac.tx.onStrayResponse((response, source) => strays.push(`${response.statusCode} ${source.port}`));
    const bytes = new TextEncoder().encode('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKgone\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
    await uas.layer.send(bytes, uac.address);
    await clock.flush();
    expect(strays).toEqual(['200 5080']);
    expectNoTransactions(uac, uas);
  });

  it('matches a retransmitted request sent by hand to its transaction (no second onRequest)', async () => {
    const { clock, uac, uas } = await loopPair();
    let requests = 0;
    uas.tx.onRequest(() => { requests++; });
    const request = testRequest('INVITE');
    request.headers.unshift(['Via', uac.layer.viaFor(uas.address, newBranch())!]);
    const bytes = serializeRequest(request);
    for (let i = 0; i < 3; i++) await uac.layer.send(bytes, uas.address);
    await clock.flush();
    expect(requests).toBe(1);
    expect(sentLines(uas.transport).map(([, l]) => l)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
    uas.tx.close();
    expectNoTransactions(uas);
  });
});
