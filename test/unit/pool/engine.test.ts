import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInlineEngine, type BatchResult, type InlineParseEngine } from '../../../runtime/wasm/engine.js';
import { createPooledEngine, type PooledEngine } from '../../../runtime/pool/pool.js';
import { PoolBusyError, PoolClosedError, PoolWorkerMissingError } from '../../../runtime/pool/errors.js';
import type { MessageView } from '../../../runtime/wasm/message-view.js';
import type { Flavour } from '../../../runtime/wasm/load.js';
import { FLAVOURS, ROOT, bytesOf, corpusBytes, corpusFiles, parserFor } from '../../support/wasm.js';
import { poolWorkerUrl } from '../../support/pool-worker.js';

/** What both engines must agree on, message by message. */
interface Summary {
  status: number;
  method: string | undefined;
  callId: string | undefined;
  branch: string | undefined;
  headerCount: number;
}

function summarise(status: number, view: MessageView): Summary {
  const ok = status >= 0;
  return {
    status,
    method: ok ? view.method : undefined,
    callId: ok ? view.callId : undefined,
    branch: ok ? view.branch : undefined,
    headerCount: view.headerCount,
  };
}

function summariseBatch(result: BatchResult): Summary[] {
  const out: Summary[] = [];
  for (let i = 0; i < result.count; i++) out.push(summarise(result.status(i), result.view(i)));
  return out;
}

/** The reference: parse_message on one message at a time (datagram rules). */
function reference(flavour: Flavour, messages: readonly Uint8Array[]): Summary[] {
  const parser = parserFor(flavour);
  return messages.map((bytes) => {
    const view = parser.parse(bytes);
    return summarise(view.status, view);
  });
}

const CORPUS: Uint8Array[] = [
  ...corpusFiles('rfc4475', '.dat').map((f) => corpusBytes(`rfc4475/${f}`)),
  ...corpusFiles('rfc5118', '.dat').map((f) => corpusBytes(`rfc5118/${f}`)),
  ...corpusFiles('real', '.sip').map((f) => corpusBytes(`real/${f}`)),
];

/** `n` messages cycling through the corpus. */
function corpusOf(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => CORPUS[i % CORPUS.length]!);
}

/** A valid OPTIONS whose Allow list splits into `items` header entries. */
function manyHeaders(items: number, i: number): Uint8Array {
  const allow = Array.from({ length: items }, (_, k) => String.fromCharCode(97 + (k % 26))).join(',');
  return bytesOf(
    `OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK${i}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n` +
      `Call-ID: many-${i}\r\nCSeq: 1 OPTIONS\r\nAllow: ${allow}\r\nContent-Length: 0\r\n\r\n`,
  );
}

async function inBatches(parse: (m: Uint8Array[]) => Promise<BatchResult>, messages: Uint8Array[], size: number) {
  const out: Summary[] = [];
  for (let i = 0; i < messages.length; i += size) {
    const result = await parse(messages.slice(i, i + size));
    out.push(...summariseBatch(result));
    result.release();
  }
  return out;
}

describe.each(FLAVOURS)('ParseEngine (%s build)', (flavour) => {
  let inline: InlineParseEngine;
  let pool: PooledEngine;

  beforeAll(() => {
    inline = createInlineEngine({ flavour });
    pool = createPooledEngine({ flavour, threads: 2, workerUrl: poolWorkerUrl() });
  });
  afterAll(async () => {
    await Promise.all([inline.close(), pool.close()]);
  });

  it('both engines match parse_message on the whole corpus as one batch', async () => {
    const expected = reference(flavour, CORPUS);
    expect(expected.filter((s) => s.status === 0).length).toBeGreaterThan(30);
    for (const engine of [inline, pool]) {
      const result = await engine.parseBatch(CORPUS);
      expect(result.count).toBe(CORPUS.length);
      expect(summariseBatch(result)).toEqual(expected);
      result.release();
    }
  });

  it.each([1, 16, 64, 256])('both engines match in batches of %i', async (size) => {
    const messages = corpusOf(600);
    const expected = reference(flavour, messages);
    expect(await inBatches((m) => inline.parseBatch(m), messages, size)).toEqual(expected);
    expect(await inBatches((m) => pool.parseBatch(m), messages, size)).toEqual(expected);
  });

  // dense: 1000 records of 1282 slots overflow OUT (2^20 slots) and the pool's first result buffer;
  // wide: 5000 corpus messages (about 2.8 MB) overflow IN (1 MB) and the pool's 4096 messages per task.
  it('splits a batch bigger than IN and OUT hold, and bigger than a result buffer', async () => {
    const dense = Array.from({ length: 1000 }, (_, i) => manyHeaders(200, i));
    const wide = corpusOf(5000);
    for (const messages of [dense, wide]) {
      const expected = reference(flavour, messages);
      for (const engine of [inline, pool]) {
        const result = await engine.parseBatch(messages);
        expect(summariseBatch(result)).toEqual(expected);
        result.release();
      }
    }
    expect(reference(flavour, dense.slice(0, 1))[0]).toMatchObject({ status: 0, headerCount: 207 });
  });

  it('keeps parsing after bad messages in the middle of a batch', async () => {
    const good = new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'messages', 'invite-sdp.sip')));
    const messages = [
      good, bytesOf('garbage\r\n\r\n'), good, new Uint8Array(0), bytesOf('\r\n\r\n'),
      new Uint8Array(70_000).fill(0x41), bytesOf('INVITE sip:a@b SIP/3.0\r\n\r\n'), good,
    ];
    const expected = reference(flavour, messages);
    expect(expected.map((s) => s.status)).toEqual([0, expect.any(Number), 0, -1, 1, -10, -3, 0]);
    expect(expected[1]!.status).toBeLessThan(0);
    for (const engine of [inline, pool]) {
      const result = await engine.parseBatch(messages);
      expect(summariseBatch(result)).toEqual(expected);
      expect(result.view(5).error?.sipStatus).toBe(513);
      result.release();
    }
  });

  it('inline results stay valid while held across later batches', async () => {
    const a = corpusOf(50);
    const b = corpusOf(80).reverse();
    const first = await inline.parseBatch(a);
    const second = await inline.parseBatch(b);
    expect(summariseBatch(first)).toEqual(reference(flavour, a));
    expect(summariseBatch(second)).toEqual(reference(flavour, b));
    first.release();
    second.release();
    expect(() => first.status(0)).toThrow(RangeError);
  });
});

describe('PooledEngine', () => {
  it('rejects with PoolBusyError when the queue is full, then recovers', async () => {
    const pool = createPooledEngine({ threads: 1, maxQueue: 2, workerUrl: poolWorkerUrl() });
    try {
      const batch = corpusOf(256);
      const pending: Promise<BatchResult>[] = [];
      let busy: unknown;
      for (let i = 0; i < 100 && busy === undefined; i++) {
        const p = pool.parseBatch(batch);
        p.catch((error: unknown) => { busy ??= error; });
        pending.push(p);
        await Promise.resolve();
      }
      const settled = await Promise.allSettled(pending);
      expect(busy).toBeInstanceOf(PoolBusyError);
      expect((busy as PoolBusyError).code).toBe('PB_ERR_POOL_BUSY');
      const expected = reference('release', batch);
      const fulfilled = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      expect(fulfilled.length).toBeGreaterThanOrEqual(3);
      for (const result of fulfilled) {
        expect(summariseBatch(result)).toEqual(expected);
        result.release();
      }
      expect(pool.queueSize).toBe(0);
      const again = await pool.parseBatch(batch);
      expect(again.status(0)).toBe(reference('release', batch)[0]!.status);
      again.release();
    } finally {
      await pool.close();
    }
  });

  it('reuses its shared buffers in a steady state', async () => {
    const pool = createPooledEngine({ threads: 1, workerUrl: poolWorkerUrl() });
    try {
      const batch = corpusOf(64);
      for (let i = 0; i < 5; i++) (await pool.parseBatch(batch)).release();
      const allocated = pool.buffersAllocated;
      for (let i = 0; i < 100; i++) (await pool.parseBatch(batch)).release();
      expect(pool.buffersAllocated).toBe(allocated);
      expect(pool.utilization).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('says where it looked when the compiled worker is missing', () => {
    expect(() => createPooledEngine({ workerUrl: '/nonexistent/worker.js' })).toThrow(PoolWorkerMissingError);
  });

  it('close() stops every thread and refuses later batches', async () => {
    const pool = createPooledEngine({ threads: 2, workerUrl: poolWorkerUrl() });
    (await pool.parseBatch(corpusOf(32))).release();
    expect(pool.threadCount).toBe(2);
    await pool.close();
    expect(pool.threadCount).toBe(0);
    await expect(pool.parseBatch(corpusOf(1))).rejects.toBeInstanceOf(PoolClosedError);
  });
});
