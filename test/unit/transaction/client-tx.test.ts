/**
 * Client transactions over the loop transport with the fake clock:
 * retransmission schedules (Timers A and E), timeouts (B and F), the ACK
 * for non-2xx, Completed/Accepted lifetimes (D, K, M), reliable transports,
 * transport errors; every test ends with no live transaction.
 */
import { describe, it, expect } from 'vitest';
import type { ClientTx } from '../../../runtime/transaction/client-tx.js';
import { TransactionError } from '../../../runtime/transaction/errors.js';
import { loopPair, sentLines, testRequest, type LoopStack } from '../../support/sip-stack.js';
import type { FakeClock } from '../../support/fake-clock.js';

/** Events of a transaction with the clock time each arrived at. */
function record(tx: ClientTx, clock: FakeClock): string[] {
  const log: string[] = [];
  tx.on('provisional', (r) => log.push(`${clock.now()} provisional ${r.statusCode}`));
  tx.on('final', (r) => log.push(`${clock.now()} final ${r.statusCode}`));
  tx.on('timeout', () => log.push(`${clock.now()} timeout`));
  tx.on('transport-error', (e) => log.push(`${clock.now()} transport-error ${e.code}`));
  tx.on('terminated', () => log.push(`${clock.now()} terminated`));
  return log;
}

function expectNoTransactions(...stacks: LoopStack[]): void {
  for (const s of stacks) expect(s.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
}

const nowhere = { transport: 'udp' as const, host: '127.0.0.1', port: 9999 };

describe('retransmission and timeout over UDP', () => {
  it('retransmits INVITE on Timer A (T1, doubling) and times out on Timer B (64·T1)', async () => {
    const { clock, uac } = await loopPair();
    const tx = uac.tx.request(testRequest('INVITE'), nowhere);
    const log = record(tx, clock);
    await clock.advance(40_000);
    expect(sentLines(uac.transport).map(([at]) => at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(log).toEqual(['32000 timeout', '32000 terminated']);
    expect(await tx.outcome).toEqual({ kind: 'timeout' });
    expectNoTransactions(uac);
  });

  it('retransmits non-INVITE on Timer E (T1 doubling, capped at T2) and times out on Timer F', async () => {
    const { clock, uac } = await loopPair();
    const tx = uac.tx.request(testRequest('OPTIONS'), nowhere);
    const log = record(tx, clock);
    await clock.advance(40_000);
    expect(sentLines(uac.transport).map(([at]) => at)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(log).toEqual(['32000 timeout', '32000 terminated']);
    expectNoTransactions(uac);
  });

  it('retransmits non-INVITE every T2 once a provisional arrived; the server absorbs the retransmissions', async () => {
    const { clock, uac, uas } = await loopPair();
    let requests = 0;
    uas.tx.onRequest((stx) => {
      requests++;
      stx.respond(stx.createResponse(100));
    });
    const tx = uac.tx.request(testRequest('MESSAGE'), uas.address);
    const log = record(tx, clock);
    await clock.advance(40_000);
    expect(sentLines(uac.transport).map(([at]) => at)).toEqual([0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500]);
    expect(requests).toBe(1);
    expect(sentLines(uas.transport).every(([, line]) => line === 'SIP/2.0 100 Trying')).toBe(true);
    // each retransmission is answered with the last provisional, and each 1xx is passed up (RFC 3261 §17.1.2.2)
    expect(log.filter((e) => e.includes('provisional'))).toHaveLength(9);
    expect(log.slice(-2)).toEqual(['32000 timeout', '32000 terminated']);
    expect(uas.tx.stats().serverTx).toBe(1);
  });

  it('keeps the non-INVITE transaction in Completed for Timer K (T4)', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((stx) => stx.respond(stx.createResponse(200)));
    const tx = uac.tx.request(testRequest('OPTIONS'), uas.address);
    const log = record(tx, clock);
    await clock.flush();
    expect(tx.state).toBe('completed');
    await clock.advance(4999);
    expect(tx.state).toBe('completed');
    await clock.advance(1);
    expect(log).toEqual(['0 final 200', '5000 terminated']);
    expect((await tx.outcome).kind).toBe('response');
    await clock.advance(32_000);
    expectNoTransactions(uac, uas);
  });
});

describe('INVITE final responses', () => {
  it('ACKs a non-2xx in the transaction with the INVITE branch and stays in Completed for Timer D', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((stx) => stx.respond(stx.createResponse(486, undefined, { toTag: 'busy' })));
    const acks: string[] = [];
    uas.tx.onAck((ack) => acks.push(ack.branch!));
    const tx = uac.tx.request(testRequest('INVITE'), uas.address);
    const log = record(tx, clock);
    await clock.flush();
    expect(sentLines(uac.transport).map(([, l]) => l.split(' ')[0])).toEqual(['INVITE', 'ACK']);
    const ack = new TextDecoder().decode(uac.transport.sent[1]!.bytes);
    expect(ack).toContain(`branch=${tx.branch}`);
    expect(ack).toContain('To: <sip:bob@127.0.0.1:5080>;tag=busy\r\n');
    expect(ack).toMatch(/CSeq: 1 ACK\r\n/);
    expect(acks).toEqual([]);
    await clock.advance(31_999);
    expect(tx.state).toBe('completed');
    await clock.advance(1);
    expect(log).toEqual(['0 final 486', '32000 terminated']);
    expectNoTransactions(uac, uas);
  });

  it('re-ACKs each retransmitted non-2xx and passes only the first up', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((stx) => stx.respond(stx.createResponse(603)));
    uac.transport.discardWhen((bytes) => bytes[0] === 0x41);
    const tx = uac.tx.request(testRequest('INVITE'), uas.address);
    const log = record(tx, clock);
    await clock.advance(3600);
    expect(sentLines(uac.transport).filter(([, l]) => l.startsWith('ACK')).map(([at]) => at)).toEqual([0, 500, 1500, 3500]);
    expect(log).toEqual(['0 final 603']);
    await clock.advance(40_000);
    expectNoTransactions(uac, uas);
  });

  it('moves to Accepted on 2xx, passes every 2xx up, and ends on Timer M', async () => {
    const { clock, uac, uas } = await loopPair();
    uas.tx.onRequest((stx) => {
      const ok = stx.createResponse(200, undefined, { toTag: 'ok' });
      stx.respond(ok);
      clock.setTimeout(() => stx.respond(ok), 500);
    });
    const tx = uac.tx.request(testRequest('INVITE'), uas.address);
    const log = record(tx, clock);
    await clock.advance(1000);
    expect(tx.state).toBe('accepted');
    expect(sentLines(uac.transport).map(([, l]) => l.split(' ')[0])).toEqual(['INVITE']);
    await clock.advance(31_000);
    expect(log).toEqual(['0 final 200', '500 final 200', '32000 terminated']);
    expectNoTransactions(uac, uas);
  });
});

describe('reliable transports and failures', () => {
  it('never retransmits over TCP and ends a non-2xx INVITE at once', async () => {
    const { clock, uac, uas } = await loopPair({ protocol: 'tcp' });
    let respond = (): void => undefined;
    uas.tx.onRequest((stx) => { respond = () => { stx.respond(stx.createResponse(480)); }; });
    const tx = uac.tx.request(testRequest('INVITE'), uas.address);
    const log = record(tx, clock);
    await clock.advance(10_000);
    respond();
    await clock.flush();
    expect(sentLines(uac.transport).map(([at, l]) => `${at} ${l.split(' ')[0]}`)).toEqual(['0 INVITE', '10000 ACK']);
    expect(log).toEqual(['0 provisional 100', '10000 final 480', '10000 terminated']);
    expectNoTransactions(uac, uas);
  });

  it('reports a transport error and ends', async () => {
    const { clock, uac } = await loopPair();
    uac.transport.setFailure(true);
    const tx = uac.tx.request(testRequest('INVITE'), nowhere);
    const log = record(tx, clock);
    await clock.flush();
    expect(log).toEqual(['0 transport-error PB_ERR_TRANSPORT_SEND', '0 terminated']);
    expect((await tx.outcome).kind).toBe('transport-error');
    expectNoTransactions(uac);
  });

  it('reports a missing transport as a transport error', async () => {
    const { clock, uac } = await loopPair();
    const tx = uac.tx.request(testRequest('OPTIONS'), { transport: 'tls', host: '127.0.0.1', port: 5061 });
    await clock.flush();
    const outcome = await tx.outcome;
    expect(outcome.kind === 'transport-error' && outcome.error.code).toBe('PB_ERR_TRANSPORT_NO_TRANSPORT');
    expectNoTransactions(uac);
  });

  it('refuses to open a transaction for ACK, and after close', async () => {
    const { uac } = await loopPair();
    expect(() => uac.tx.request(testRequest('ACK'), nowhere)).toThrow(TransactionError);
    const tx = uac.tx.request(testRequest('INVITE'), nowhere);
    uac.tx.close();
    expect(await tx.outcome).toEqual({ kind: 'closed' });
    expectNoTransactions(uac);
    expect(() => uac.tx.request(testRequest('OPTIONS'), nowhere)).toThrow(expect.objectContaining({ code: 'PB_ERR_TX_CLOSED' }));
  });
});
