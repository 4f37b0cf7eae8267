/**
 * The request screen on the loop transport with a fake clock: stateless
 * challenges and refusals (RFC 3261 §8.2.7) are sent once per request and
 * never again however long the clock runs, keep no transaction, and the
 * ACK for them is absorbed; a rate-limited source is answered then dropped;
 * an admitted INVITE goes on to a transaction as before.
 */
import { describe, expect, it } from 'vitest';
import { createAdmissionPolicy } from '../../../runtime/auth/admission.js';
import { createRateLimiter } from '../../../runtime/auth/rate-limit.js';
import { createRequestScreen } from '../../../runtime/auth/screen.js';
import { createResponse } from '../../../runtime/sip/build.js';
import { loopPair, startLine } from '../../support/sip-stack.js';

const encoder = new TextEncoder();

function invite(i: number, extra = ''): Uint8Array {
  return encoder.encode(
    `INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-sc${i}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=f${i}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: sc-${i}\r\n` +
    `CSeq: 1 INVITE\r\n${extra}Content-Length: 0\r\n\r\n`);
}

async function rig(options: { allow?: string[]; requests?: number } = {}) {
  const pair = await loopPair({ timers: { T1: 500 } });
  const now = (): number => pair.clock.now();
  const policy = createAdmissionPolicy({
    realm: 'gw.test', acls: (options.allow ?? []).map((cidr) => ({ action: 'allow' as const, cidr })),
    credentials: [{ username: 'alice', password: 'pw' }], algorithms: ['MD5'], verifier: { now },
  });
  const limiter = createRateLimiter({ requests: options.requests ?? 1000, windowMs: 60_000, blockMs: 60_000, maxSources: 100, exempt: [], now });
  if (!policy.ok || !limiter.ok) throw new Error('bad rig');
  const admitted: string[] = [];
  pair.uas.tx.onScreen(createRequestScreen({ admission: policy.value, limiter: limiter.value, draining: () => false }));
  pair.uas.tx.onRequest((tx, request) => {
    admitted.push(request.callId ?? '');
    tx.respond(createResponse(request, 486));
  });
  const sent = (): string[] => pair.uas.transport.sent.map((r) => startLine(r.bytes));
  return { ...pair, admitted, sent };
}

describe('request screen', () => {
  it('N unauthenticated INVITEs get N 401s, none retransmitted through Timer H, no transaction; their ACKs are absorbed', async () => {
    const { clock, uac, uas, sent, admitted } = await rig();
    for (let i = 0; i < 25; i++) await uac.transport.send(invite(i), uas.address);
    await clock.flush();
    expect(sent()).toEqual(Array(25).fill('SIP/2.0 401 Unauthorized'));
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
    const to = /\r\nTo: ([^\r]*)/.exec(new TextDecoder().decode(uas.transport.sent[0]!.bytes))![1]!;
    await uac.transport.send(encoder.encode(
      `ACK sip:bob@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-sc0\r\nMax-Forwards: 70\r\n` +
      `From: <sip:alice@127.0.0.1>;tag=f0\r\nTo: ${to}\r\nCall-ID: sc-0\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`), uas.address);
    await clock.advance(64 * 500 + 1000);
    expect(sent()).toHaveLength(25);
    expect(admitted).toEqual([]);
  });

  it('an admitted INVITE gets its transaction and the handler; a refused one a stateless 403', async () => {
    const { clock, uac, uas, sent, admitted } = await rig({ allow: ['127.0.0.1'] });
    await uac.transport.send(invite(1), uas.address);
    await clock.flush();
    expect(admitted).toEqual(['sc-1']);
    expect(sent()).toEqual(['SIP/2.0 486 Busy Here']);
    // the 486 is stateful: retransmitted by Timer G until ACKed
    await clock.advance(600);
    expect(sent()).toHaveLength(2);
    const denied = await rig();
    await denied.uac.transport.send(invite(2, 'Authorization: Digest username="alice", realm="gw.test", nonce="x", uri="sip:bob@127.0.0.1:5080", response="0"\r\n'), denied.uas.address);
    await denied.clock.advance(40_000);
    expect(denied.sent()).toEqual(['SIP/2.0 403 Forbidden']);
    expect(denied.uas.tx.stats().serverTx).toBe(0);
  });

  it('a source over the rate limit gets 3 stateless 503s with Retry-After, then nothing', async () => {
    const { clock, uac, uas, sent, admitted } = await rig({ allow: ['127.0.0.1'], requests: 2 });
    for (let i = 0; i < 10; i++) await uac.transport.send(invite(i), uas.address);
    await clock.flush();
    expect(admitted).toEqual(['sc-0', 'sc-1']);
    expect(sent().filter((l) => l.startsWith('SIP/2.0 503'))).toHaveLength(3);
    const retryAfter = uas.transport.sent.map((r) => /\r\nRetry-After: (\d+)/.exec(new TextDecoder().decode(r.bytes))?.[1]).filter(Boolean);
    expect(retryAfter).toEqual(['60', '60', '60']);
    await clock.advance(64 * 500);
    expect(uas.tx.stats().serverTx).toBe(0);
  });
});
