/** The loop transport's knobs: discard, delay on the injected clock, failure, unreachable destinations. */
import { describe, it, expect } from 'vitest';
import { LoopNetwork, type LoopTransport } from '../../../runtime/transport/loop.js';
import type { TransportSink } from '../../../runtime/transport/transport.js';
import { FakeClock } from '../../support/fake-clock.js';
import { bytesOf } from '../../support/wasm.js';

async function pair(protocol: 'udp' | 'tcp' = 'udp'): Promise<{ clock: FakeClock; a: LoopTransport; b: LoopTransport; got: string[] }> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const a = network.transport({ port: 6000, protocol });
  const b = network.transport({ port: 6001, protocol });
  const got: string[] = [];
  const sink: TransportSink = { message: (bytes, source) => { got.push(`${new TextDecoder().decode(bytes)}@${source.port}`); }, keepAlive: () => undefined, frameError: () => undefined };
  a.attach(sink);
  b.attach(sink);
  await a.listen();
  await b.listen();
  return { clock, a, b, got };
}

const toB = { transport: 'udp' as const, host: '127.0.0.1', port: 6001 };

describe('LoopTransport', () => {
  it('delivers on the next microtask and records every send', async () => {
    const { clock, a, got } = await pair();
    const sent = a.send(bytesOf('one'), toB);
    expect(got).toEqual([]);
    expect((await sent).ok).toBe(true);
    await clock.flush();
    expect(got).toEqual(['one@6000']);
    expect(a.sent.map((r) => r.delivered)).toEqual([true]);
  });

  it('discards the next n messages, or those a predicate picks', async () => {
    const { clock, a, got } = await pair();
    a.discardNext(2);
    for (const m of ['1', '2', '3']) await a.send(bytesOf(m), toB);
    a.discardWhen((bytes) => bytes[0] === 0x34);
    for (const m of ['4', '5']) await a.send(bytesOf(m), toB);
    await clock.flush();
    expect(got).toEqual(['3@6000', '5@6000']);
    expect(a.sent.map((r) => r.delivered)).toEqual([false, false, true, false, true]);
  });

  it('delays delivery on the clock', async () => {
    const { clock, a, got } = await pair();
    a.setDelay(100);
    await a.send(bytesOf('late'), toB);
    await clock.advance(99);
    expect(got).toEqual([]);
    await clock.advance(1);
    expect(got).toEqual(['late@6000']);
  });

  it('fails sends on demand, and loses datagrams to nowhere but fails streams', async () => {
    const { a } = await pair();
    a.setFailure(true);
    expect((await a.send(bytesOf('x'), toB)).ok).toBe(false);
    a.setFailure(false);
    expect((await a.send(bytesOf('x'), { ...toB, port: 7000 })).ok).toBe(true);
    const tcp = await pair('tcp');
    const result = await tcp.a.send(bytesOf('x'), { transport: 'tcp', host: '127.0.0.1', port: 7000 });
    expect(result.ok ? 'ok' : result.error.code).toBe('PB_ERR_TRANSPORT_CONNECT');
  });
});
