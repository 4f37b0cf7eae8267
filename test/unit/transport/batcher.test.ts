/**
 * Batched parsing of received datagrams (a pool task carries a batch, not
 * one message): the pooled path delivers what the inline path delivers, in the
 * same order, with the same stateless answers; the pool refusing a batch,
 * the timer, the waiting cap and close() never lose a datagram.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportLayer } from '../../../runtime/transport/layer.js';
import { UdpTransport } from '../../../runtime/transport/udp.js';
import { ReceiveBatchOptionsError } from '../../../runtime/transport/batch-options.js';
import { createReceiveEngine } from '../../../runtime/transport/pooled-parse.js';
import { createPooledEngine, type PooledEngine } from '../../../runtime/pool/pool.js';
import { PoolBusyError, PoolClosedError } from '../../../runtime/pool/errors.js';
import { createInlineEngine } from '../../../runtime/wasm/engine.js';
import type { ReceivedVia } from '../../../runtime/transport/via-routing.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ScriptedPool, badRequest, invite, loggedLayer, type LoggedLayer } from '../../support/datagrams.js';
import { poolWorkerUrl } from '../../support/pool-worker.js';
import { waitFor } from '../../support/sockets.js';
import { corpusBytes, corpusFiles, parserFor } from '../../support/wasm.js';

const CORPUS: Uint8Array[] = [
  ...corpusFiles('rfc4475', '.dat').map((f) => corpusBytes(`rfc4475/${f}`)),
  ...corpusFiles('real', '.sip').map((f) => corpusBytes(`real/${f}`)),
];

/** @return the numbers of the INVITEs in a log (`call-N`), in log order. */
function calls(log: readonly string[]): number[] {
  return log.flatMap((line) => /INVITE call-(\d+) /.exec(line)?.[1] ?? []).map(Number);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

function burst(l: LoggedLayer, from: number, to: number, port = 5070): void {
  for (let i = from; i < to; i++) l.transport.inject(invite(i), port);
}

async function drained(l: LoggedLayer): Promise<void> {
  await waitFor(() => l.layer.stats().batching!.waiting === 0, 10_000);
}

describe('with the real pool', () => {
  let pool: PooledEngine;
  beforeAll(() => {
    pool = createPooledEngine({ threads: 2, maxQueue: 16, workerUrl: poolWorkerUrl() });
  });
  afterAll(() => pool.close());

  it('delivers what the inline path delivers, in the same order, with the same answers', async () => {
    const messages = range(0, 600).map((i) => (i % 37 === 5 ? badRequest(i) : i % 3 === 0 ? CORPUS[i % CORPUS.length]! : invite(i)));
    const inline = await loggedLayer();
    const clock = new FakeClock();
    const pooled = await loggedLayer({ engine: pool, clock });
    messages.forEach((bytes, i) => inline.transport.inject(bytes, 5070 + (i % 5)));
    messages.forEach((bytes, i) => pooled.transport.inject(bytes, 5070 + (i % 5)));
    await clock.advance(1);
    await drained(pooled);
    expect(pooled.log.length).toBeGreaterThan(500);
    expect(pooled.log).toEqual(inline.log);
    const { batching, ...counters } = pooled.layer.stats();
    expect(counters).toEqual(inline.layer.stats());
    expect(batching!.pooled).toBeGreaterThanOrEqual(8 * 64);
    expect(batching!.direct + batching!.pooled + batching!.inline).toBe(600);
  });

  it('answers a bad datagram inside a pooled batch with 400, as the inline path does', async () => {
    const l = await loggedLayer({ engine: pool, clock: new FakeClock() });
    const messages = range(0, 127).map((i) => (i === 100 ? badRequest(i) : invite(i)));
    for (const bytes of messages) l.transport.inject(bytes, 5070);
    await drained(l);
    expect(l.log).toHaveLength(127);
    expect(l.log[100]).toBe('out 5070 SIP/2.0 400 Bad Request 399 127.0.0.1:5060 "CSeq method differs from the request method"');
    expect(calls(l.log)).toEqual(range(0, 127).filter((i) => i !== 100));
    const stats = l.layer.stats();
    expect(stats.batching).toMatchObject({ direct: 63, pooled: 64, inline: 0 });
    expect(stats.parseErrors).toEqual({ E_CSEQ_METHOD: 1 });
    expect(stats.out.responses).toEqual({ 400: 1 });
  });

  it('parses inline what a flood beyond the pool queue brings, losing nothing', async () => {
    const small = createPooledEngine({ threads: 1, maxQueue: 1, workerUrl: poolWorkerUrl() });
    try {
      const clock = new FakeClock();
      const l = await loggedLayer({ engine: small, clock });
      const messages = range(0, 1920).map(invite);
      messages.forEach((bytes, i) => l.transport.inject(bytes, 5070 + (i % 4)));
      await clock.advance(1);
      await drained(l);
      expect(calls(l.log)).toEqual(range(0, 1920));
      const b = l.layer.stats().batching!;
      expect(b.busyFallbacks).toBeGreaterThan(0);
      expect(b.pooled).toBeGreaterThan(0);
      expect(b.inline).toBeGreaterThan(0);
      expect(b.direct + b.pooled + b.inline).toBe(1920);
      expect(b.peakWaiting).toBeLessThanOrEqual(4096);
    } finally {
      await small.close();
    }
  });

  it('carries a flood over real UDP sockets on 127.0.0.1, with received/rport and 400s', async () => {
    const layer = new TransportLayer({
      transports: [new UdpTransport({ host: '127.0.0.1', port: 0 })],
      parser: parserFor('release'),
      engine: pool,
      batching: { maxBatch: 16, minPoolBatch: 16, maxWaitUs: 5000 },
    });
    const got: Array<[string, ReceivedVia]> = [];
    layer.onMessage((view, _source, via) => got.push([view.callId!, via!]));
    const [server] = await layer.listen();
    const client: Socket = createSocket('udp4');
    const replies: string[] = [];
    client.on('message', (msg) => replies.push(msg.toString('latin1')));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    try {
      for (let from = 0; from < 400; from += 50) {
        for (let i = from; i < from + 50; i++) client.send(i === 120 ? badRequest(i) : invite(i), server!.port, '127.0.0.1');
        await waitFor(() => got.length + replies.length === from + 50);
      }
      expect(got.map(([callId]) => callId)).toEqual(range(0, 400).filter((i) => i !== 120).map((i) => `call-${i}`));
      expect(got[0]![1]).toMatchObject({ received: '127.0.0.1', rport: client.address().port });
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n[^]*Call-ID: bad-120\r\n/);
      expect(layer.stats().batching!.pooled).toBeGreaterThan(0);
    } finally {
      client.close();
      await layer.close();
    }
  });

  it('is made by createReceiveEngine only when the pool is on', async () => {
    expect(createReceiveEngine({ pool: false, poolThreads: 1 })).toBeUndefined();
    const engine = createReceiveEngine({ pool: true, poolThreads: 1, maxMessageBytes: 4096 }, { workerUrl: poolWorkerUrl() })!;
    try {
      expect(engine.kind).toBe('pool');
      const result = await engine.parseBatch([invite(1), new Uint8Array(5000)]);
      expect(result.view(0).callId).toBe('call-1');
      expect(result.view(1).error?.name).toBe('E_MESSAGE_TOO_LARGE');
      result.release();
    } finally {
      await engine.close();
    }
  });
});

describe('with a scripted pool and a fake clock (batch 8, cap 64)', () => {
  async function setup(batching = {}): Promise<{ clock: FakeClock; pool: ScriptedPool; l: LoggedLayer }> {
    const clock = new FakeClock();
    const pool = new ScriptedPool();
    const l = await loggedLayer({ engine: pool, clock, batching: { maxBatch: 8, minPoolBatch: 8, maxWaitUs: 1000, maxWaiting: 64, ...batching } });
    return { clock, pool, l };
  }

  it('parses on arrival while the rate is low', async () => {
    const { clock, pool, l } = await setup();
    for (let i = 0; i < 20; i++) {
      l.transport.inject(invite(i), 5070);
      expect(l.log).toHaveLength(i + 1);
      await clock.advance(1);
    }
    expect(pool.calls).toHaveLength(0);
    expect(l.layer.stats().batching).toMatchObject({ batching: false, direct: 20, pooled: 0, inline: 0 });
  });

  it('sends batches that fill quickly to the pool and delivers them in arrival order', async () => {
    const { clock, pool, l } = await setup();
    burst(l, 0, 31);
    expect(calls(l.log)).toEqual(range(0, 7));
    expect(pool.calls.map((c) => c.messages.length)).toEqual([8, 8, 8]);
    pool.calls[1]!.resolve();
    await clock.flush();
    expect(l.log).toHaveLength(7);
    pool.calls[0]!.resolve();
    await clock.flush();
    expect(calls(l.log)).toEqual(range(0, 23));
    pool.calls[2]!.resolve();
    await clock.flush();
    expect(calls(l.log)).toEqual(range(0, 31));
    expect(pool.released).toBe(3);
    expect(l.layer.stats().batching).toMatchObject({ batching: true, pooledBatches: 3, pooled: 24, waiting: 0 });
  });

  it('flushes a partial batch on the timer: inline when small, to the pool when big enough', async () => {
    const { clock, pool, l } = await setup();
    burst(l, 0, 10);
    expect(l.log).toHaveLength(7);
    await clock.advance(1);
    expect(calls(l.log)).toEqual(range(0, 10));
    expect(pool.calls).toHaveLength(0);
    expect(l.layer.stats().batching).toMatchObject({ batching: false, inlineBatches: 1, inline: 3 });
    l.transport.inject(invite(10), 5070);
    expect(l.log).toHaveLength(11);

    const big = await setup({ maxBatch: 32 });
    burst(big.l, 0, 20);
    await big.clock.advance(1);
    expect(big.pool.calls.map((c) => c.messages.length)).toEqual([13]);
    big.pool.calls[0]!.resolve();
    await big.clock.flush();
    expect(calls(big.l.log)).toEqual(range(0, 20));
  });

  it('parses a refused batch inline, after the batches before it, and stops using a closed pool', async () => {
    const { clock, pool, l } = await setup();
    burst(l, 0, 15);
    pool.refuse = new PoolBusyError(1, 1);
    burst(l, 15, 23);
    await clock.flush();
    expect(l.log).toHaveLength(7);
    pool.calls[0]!.resolve();
    await clock.flush();
    expect(calls(l.log)).toEqual(range(0, 23));
    pool.refuse = new PoolClosedError();
    burst(l, 23, 31);
    await clock.flush();
    expect(calls(l.log)).toEqual(range(0, 31));
    l.transport.inject(invite(31), 5070);
    expect(l.log).toHaveLength(32);
    expect(l.layer.stats().batching).toMatchObject({ batching: false, busyFallbacks: 1, poolFailures: 1, pooled: 8, inline: 16, direct: 8 });
  });

  it('parses everything waiting inline at the cap, and skips the pool until the abandoned batches settle', async () => {
    const { clock, pool, l } = await setup();
    burst(l, 0, 71);
    expect(pool.calls).toHaveLength(8);
    expect(l.layer.stats().batching!.waiting).toBe(64);
    l.transport.inject(invite(71), 5070);
    expect(calls(l.log)).toEqual(range(0, 71));
    burst(l, 72, 80);
    expect(calls(l.log)).toEqual(range(0, 79));
    expect(pool.calls).toHaveLength(8);
    for (const call of pool.calls) call.resolve();
    await clock.flush();
    expect(l.log).toHaveLength(79);
    expect(pool.released).toBe(8);
    burst(l, 80, 88);
    expect(pool.calls).toHaveLength(9);
    pool.calls[8]!.resolve();
    await clock.advance(1);
    expect(calls(l.log)).toEqual(range(0, 88));
    expect(l.layer.stats().batching).toMatchObject({ overflows: 1, peakWaiting: 64, waiting: 0, pooled: 8, inline: 73 });
  });

  it('close() delivers what waits, in order, leaves no timer, and parses later arrivals inline', async () => {
    const { clock, pool, l } = await setup();
    burst(l, 0, 18);
    expect(clock.pendingCount).toBe(1);
    await l.layer.close();
    expect(calls(l.log)).toEqual(range(0, 18));
    expect(clock.pendingCount).toBe(0);
    pool.calls[0]!.resolve();
    await clock.flush();
    expect(l.log).toHaveLength(18);
    expect(pool.released).toBe(1);
    burst(l, 18, 30);
    expect(calls(l.log)).toEqual(range(0, 30));
  });

  it('parses stream messages inline at once, even while datagrams wait', async () => {
    const { l } = await setup();
    burst(l, 0, 9);
    l.transport.inject(invite(99), 5070, true);
    expect(calls(l.log)).toEqual([...range(0, 7), 99]);
  });

  it('leaves the synchronous path alone with an inline engine, and refuses bad settings', async () => {
    const l = await loggedLayer({ engine: createInlineEngine() });
    burst(l, 0, 100);
    expect(l.log).toHaveLength(100);
    expect(l.layer.stats().batching).toBeUndefined();
    const transports = [new UdpTransport()];
    expect(() => new TransportLayer({ transports, parser: parserFor('release'), engine: new ScriptedPool(), batching: { maxBatch: 0 } }))
      .toThrow(ReceiveBatchOptionsError);
  });
});
