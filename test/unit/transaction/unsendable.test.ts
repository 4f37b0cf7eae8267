/**
 * No server transaction outlives a response that cannot be sent: requests
 * carrying a raw control character are refused by the parser and never
 * open one; a response the serializer refuses is replaced by a 500 or ends
 * its transaction at once; a TU that throws gets its request a 500; and the
 * refusals are reported once per window, not once per message. Loop
 * transport, fake clock.
 */
import { describe, it, expect } from 'vitest';
import { LoopNetwork } from '../../../runtime/transport/loop.js';
import type { ParseFn } from '../../../runtime/transport/layer.js';
import type { RespondResult } from '../../../runtime/transaction/errors.js';
import { UNSENDABLE_REPORT_MS, type UnsendableReport } from '../../../runtime/transaction/unsendable.js';
import { FakeClock } from '../../support/fake-clock.js';
import { parserFor } from '../../support/wasm.js';
import { loopStack, sentLines, testRequest, type LoopStack } from '../../support/sip-stack.js';

const enc = new TextEncoder();
const parser = parserFor('release');

/** The datagram: an OPTIONS whose From display name holds `byte`. */
function options(n: number, byte = 0x07, where: 'From' | 'X-Note' = 'From'): Uint8Array {
  const from = where === 'From' ? '"a^"' : '"a"';
  const note = where === 'X-Note' ? 'X-Note: x^y\r\n' : '';
  const text = `OPTIONS sip:x@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${n}\r\nMax-Forwards: 70\r\n`
    + `From: ${from} <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: flood-${n}\r\nCSeq: 1 OPTIONS\r\n${note}Content-Length: 0\r\n\r\n`;
  const bytes = enc.encode(text);
  bytes[text.indexOf('^')] = byte;
  return bytes;
}

interface Rig {
  clock: FakeClock;
  uac: LoopStack;
  uas: LoopStack;
  reports: UnsendableReport[];
  handlerErrors: unknown[];
}

async function rig(parse?: ParseFn): Promise<Rig> {
  const clock = new FakeClock();
  const network = new LoopNetwork({ clock });
  const reports: UnsendableReport[] = [];
  const handlerErrors: unknown[] = [];
  const uac = await loopStack(network, { port: 5070 });
  const uas = await loopStack(network, {
    port: 5080, parse, onUnsendable: (r) => reports.push(r), onHandlerError: (e) => handlerErrors.push(e),
  });
  return { clock, uac, uas, reports, handlerErrors };
}

/**
 * A parse function that lets a control character through, as a parser
 * without the check would: the message parses clean, then the `b` of its
 * From display name "ab" becomes a BEL (the view reads the bytes it was given).
 */
const leakyParse: ParseFn = (bytes, isStream) => {
  const view = parser.parse(bytes, isStream);
  const at = new TextDecoder().decode(bytes).indexOf('"ab"');
  if (view.ok && at >= 0) bytes[at + 2] = 0x07;
  return view;
};

describe('requests with a raw control character', () => {
  it('leave no server transaction after a flood of 2,000 (the From display name BEL of the report)', async () => {
    const { clock, uac, uas, reports, handlerErrors } = await rig();
    let requests = 0;
    uas.tx.onRequest((tx) => { requests++; tx.respond(tx.createResponse(200)); });
    for (let i = 0; i < 2000; i++) await uac.transport.send(options(i), uas.address);
    await clock.flush();
    expect(requests).toBe(0);
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
    expect(uas.layer.stats().parseErrors).toEqual({ E_RAW_CTL: 2000 });
    // From must be copied into any answer (RFC 3261 §8.2.6.2): dropped, counted, never echoed
    expect(uas.layer.stats().unanswered).toEqual({ 'unsafe-header': 2000 });
    expect(uas.transport.sent).toHaveLength(0);
    expect(reports).toEqual([]);
    expect(handlerErrors).toEqual([]);
  });

  it('get a stateless 400 naming the problem when the byte is in a header the answer does not copy', async () => {
    const { clock, uac, uas } = await rig();
    for (const [i, byte] of [0x00, 0x07, 0x1b, 0x7f, 0x0d].entries()) await uac.transport.send(options(i, byte, 'X-Note'), uas.address);
    await clock.flush();
    const answers = uas.transport.sent.map((r) => new TextDecoder().decode(r.bytes));
    expect(answers).toHaveLength(5);
    for (const a of answers) {
      expect(a).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
      expect(a).toMatch(/\r\nWarning: 399 127\.0\.0\.1:5080 "control character \(NUL, BEL, ESC, DEL, bare CR\.\.\.\) in the start line or a header field/);
      expect(a).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
    }
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
  });
});

describe('a response that cannot be serialized', () => {
  it('is replaced by a 500 and its transaction ends by its timers, reported once', async () => {
    const { clock, uac, uas, reports } = await rig();
    const results: RespondResult[] = [];
    uas.tx.onRequest((tx) => { results.push(tx.respond(tx.createResponse(200, undefined, { headers: [['X-Echo', 'a\r\nVia: evil']] }))); });
    const finals: number[] = [];
    uac.tx.request(testRequest('OPTIONS'), uas.address).on('final', (r) => finals.push(r.statusCode));
    await clock.flush();
    expect(results).toMatchObject([{ ok: false, error: { code: 'PB_ERR_TX_UNSENDABLE' } }]);
    expect(sentLines(uas.transport).map(([, l]) => l)).toEqual(['SIP/2.0 500 Server Internal Error']);
    expect(finals).toEqual([500]);
    expect(reports).toMatchObject([{ method: 'OPTIONS', status: 200, code: 'PB_ERR_SIP_HEADER_INJECTION', field: 'X-Echo', outcome: 'sent-500', count: 1, total: 1 }]);
    await clock.advance(40_000);
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
    expect(uac.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
  });

  it('of an INVITE is replaced by a 500 that the client ACKs', async () => {
    const { clock, uac, uas } = await rig();
    uas.tx.onRequest((tx) => { tx.respond(tx.createResponse(180, undefined, { toTag: 't', headers: [['X-Echo', 'a\0b']] })); });
    uac.tx.request(testRequest('INVITE'), uas.address);
    await clock.flush();
    expect(sentLines(uas.transport).map(([, l]) => l)).toEqual(['SIP/2.0 500 Server Internal Error']);
    expect(sentLines(uac.transport).map(([, l]) => l)).toEqual(['INVITE sip:bob@127.0.0.1:5080 SIP/2.0', 'ACK sip:bob@127.0.0.1:5080 SIP/2.0']);
    await clock.advance(40_000);
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
  });

  it('ends its transaction at once when the request itself holds what cannot be copied', async () => {
    const { clock, uac, uas, reports } = await rig(leakyParse);
    const results: RespondResult[] = [];
    let ended = 0;
    uas.tx.onRequest((tx) => {
      tx.on('terminated', () => ended++);
      results.push(tx.respond(tx.createResponse(200)));
    });
    await uac.transport.send(options(1, 0x62), uas.address); // "ab": parses clean, then leakyParse puts the BEL in
    await clock.flush();
    expect(results).toMatchObject([{ ok: false, error: { code: 'PB_ERR_TX_UNSENDABLE' } }]);
    expect(ended).toBe(1);
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
    expect(uas.transport.sent).toHaveLength(0);
    expect(reports).toMatchObject([{ status: 200, field: 'From', outcome: 'ended' }]);
  });

  it('is logged at most once per window however many there are', async () => {
    const { clock, uac, uas, reports } = await rig(leakyParse);
    uas.tx.onRequest((tx) => { tx.respond(tx.createResponse(200)); });
    for (let i = 0; i < 2000; i++) await uac.transport.send(options(i, 0x62), uas.address);
    await clock.flush();
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
    expect(uas.tx.unsendableTotal).toBe(2000);
    expect(reports.map((r) => [r.count, r.total])).toEqual([[1, 1]]);
    await clock.advance(UNSENDABLE_REPORT_MS);
    expect(reports.map((r) => [r.count, r.total])).toEqual([[1, 1], [1999, 2000]]);
    await clock.advance(UNSENDABLE_REPORT_MS * 3);
    expect(reports).toHaveLength(2);
    await uac.transport.send(options(9999, 0x62), uas.address);
    await clock.flush();
    expect(reports.map((r) => [r.count, r.total])).toEqual([[1, 1], [1999, 2000], [1, 2001]]);
  });
});

describe('a TU that throws before answering', () => {
  it('gets its request a 500, and the error goes to the handler-error hook', async () => {
    const { clock, uac, uas, handlerErrors } = await rig();
    uas.tx.onRequest(() => { throw new Error('TU bug'); });
    const finals: number[] = [];
    uac.tx.request(testRequest('OPTIONS'), uas.address).on('final', (r) => finals.push(r.statusCode));
    await clock.flush();
    expect(finals).toEqual([500]);
    expect(handlerErrors).toMatchObject([{ message: 'TU bug' }]);
    await clock.advance(40_000);
    expect(uas.tx.stats()).toEqual({ clientTx: 0, serverTx: 0 });
  });
});
