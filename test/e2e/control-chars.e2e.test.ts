/**
 * Raw control characters against the real daemon over UDP on loopback (the
 * report's repro): a flood of OPTIONS with a BEL in the From display name
 * leaves no server transaction and no log line per message; INVITEs with a
 * NUL in the Call-ID or the From display name never reach the static
 * route's callee (a 400 must copy those headers, RFC 3261 §8.2.6.2, so they
 * are dropped and counted); a NUL in a header the 400 does not copy gets a
 * 400 naming the problem in its Warning. A control byte escaped by a
 * quoted-pair (RFC 4475 §3.1.1.2 intmeth) parses, and is handled the same way.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { waitFor } from '../support/sockets.js';
import { corpusBytes } from '../support/wasm.js';

const base = e2ePorts(import.meta.url).base;
const SIP = base;
const CALLEE = base + 1;
const CALLER = base + 2;
const HTTP = base + 5;
const CTL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** A UDP peer on loopback that keeps what it receives as latin1 text. */
interface Peer {
  socket: Socket;
  got: string[];
  send(text: string, port: number, patch?: (bytes: Buffer) => void): Promise<void>;
}

async function peer(port: number): Promise<Peer> {
  const socket = createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (msg) => got.push(msg.toString('latin1')));
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return {
    socket, got,
    send: (text, to) => new Promise((resolve, reject) => socket.send(Buffer.from(text, 'latin1'), to, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
  };
}

/** A request from the caller; `over` replaces header lines by their name. */
function request(method: string, n: number, over: Record<string, string> = {}, extra = ''): string {
  const h: Record<string, string> = {
    Via: `SIP/2.0/UDP 127.0.0.1:${CALLER};branch=z9hG4bK-ctl-${method}-${n}`,
    'Max-Forwards': '70',
    From: `"a" <sip:a@127.0.0.1:${CALLER}>;tag=f${n}`,
    To: `<sip:x@127.0.0.1:${SIP}>`,
    'Call-ID': `ctl-${method}-${n}`,
    CSeq: `1 ${method}`,
    Contact: `<sip:a@127.0.0.1:${CALLER}>`,
    ...over,
  };
  const lines = Object.entries(h).map(([k, v]) => `${k}: ${v}`);
  return `${method} sip:x@127.0.0.1:${SIP} SIP/2.0\r\n${lines.join('\r\n')}\r\n${extra}Content-Length: 0\r\n\r\n`;
}

/** A metric's value from the daemon's /metrics (0 when absent). */
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${HTTP}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The header `name` of a message (first one), or undefined. */
function header(message: string, name: string): string | undefined {
  return message.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
}

describe('raw control characters over UDP against the daemon', () => {
  let daemon: DaemonProcess;
  let caller: Peer;
  let callee: Peer;

  beforeAll(async () => {
    callee = await peer(CALLEE);
    caller = await peer(CALLER);
    // the callee refuses every INVITE with 486 (the daemon ACKs it); enough to see what reaches it
    callee.socket.on('message', (msg, rinfo) => {
      const text = msg.toString('latin1');
      if (!text.startsWith('INVITE ')) return;
      const copied = text.split('\r\n').filter((l) => /^(via|from|call-id|cseq):/i.test(l));
      const reply = `SIP/2.0 486 Busy Here\r\n${copied.join('\r\n')}\r\nTo: ${header(text, 'To')};tag=callee\r\nContent-Length: 0\r\n\r\n`;
      callee.socket.send(Buffer.from(reply, 'latin1'), rinfo.port, rinfo.address);
    });
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP}`, '--route', `sip:callee@127.0.0.1:${CALLEE};transport=udp`, '--t1', '100', '--timer-d', '2000',
    ], HTTP);
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop();
    caller?.socket.close();
    callee?.socket.close();
  });

  it('2,000 OPTIONS with a BEL in the From display name leave no server transaction and a bounded log', async () => {
    const logsBefore = daemon.logs.length;
    const flood = (n: number): string => request('OPTIONS', n, { From: `"a\x07" <sip:a@127.0.0.1>;tag=1` });
    const TOTAL = 2000;
    const CHUNK = 100;
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      for (let i = sent; i < sent + CHUNK; i++) await caller.send(flood(i), SIP);
      // the daemon's own count is the readiness signal: each chunk is parsed before the next goes
      const expected = sent + CHUNK;
      const deadline = Date.now() + 30_000;
      while (await metric('patchbay_sip_parse_errors_total', 'code="E_RAW_CTL"') < expected) {
        if (Date.now() > deadline) throw new Error(`the daemon counted fewer than ${expected} refused datagrams`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // a NUL in a header the 400 does not copy is answered: when that 400 is back, any answer to the flood would be too
    await caller.send(request('OPTIONS', 99999, {}, 'X-Note: a\0b\r\n'), SIP);
    await waitFor(() => caller.got.some((m) => header(m, 'Call-ID') === 'ctl-OPTIONS-99999'), 15_000);
    const answer = caller.got.find((m) => header(m, 'Call-ID') === 'ctl-OPTIONS-99999')!;
    expect(answer).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(header(answer, 'Warning')).toMatch(/^399 127\.0\.0\.1:\d+ "control character \(NUL, BEL, ESC, DEL, bare CR\.\.\.\) in the start line or a header field/);
    expect(caller.got).toHaveLength(1);
    expect(await metric('patchbay_sip_unanswered_total', 'reason="unsafe-header"')).toBe(TOTAL);
    expect(await daemon.stats()).toMatchObject({ clientTx: 0, serverTx: 0, calls: 0, dialogs: 0 });
    const newLogs = daemon.logs.slice(logsBefore);
    expect(newLogs.length, newLogs.slice(0, 5).join('\n')).toBeLessThanOrEqual(5);
    expect(newLogs.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  }, 180_000);

  it('an INVITE with a NUL in the Call-ID or the From display name never reaches the callee; a clean one does', async () => {
    caller.got.length = 0;
    const droppedBefore = await metric('patchbay_sip_unanswered_total', 'reason="unsafe-header"');
    await caller.send(request('INVITE', 1, { 'Call-ID': 'ab\0cd' }), SIP);
    await caller.send(request('INVITE', 2, { From: `"a\0" <sip:a@127.0.0.1:${CALLER}>;tag=f2` }), SIP);
    await caller.send(request('INVITE', 3, {}, 'X-Note: a\0b\r\n'), SIP);
    await waitFor(() => caller.got.some((m) => header(m, 'Call-ID') === 'ctl-INVITE-3'), 15_000);
    expect(caller.got.find((m) => header(m, 'Call-ID') === 'ctl-INVITE-3')).toMatch(/^SIP\/2\.0 400 Bad Request\r\n[\s\S]*Warning: 399 [^\r]*control character/);
    // the clean INVITE is bridged to the callee, whose 486 comes back: the route works, so the silence above means something
    await caller.send(request('INVITE', 4), SIP);
    await waitFor(() => caller.got.some((m) => m.startsWith('SIP/2.0 486') && header(m, 'Call-ID') === 'ctl-INVITE-4'), 15_000);
    const busy = caller.got.find((m) => m.startsWith('SIP/2.0 486'))!;
    await caller.send(`ACK sip:x@127.0.0.1:${SIP} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${CALLER};branch=z9hG4bK-ctl-INVITE-4\r\nMax-Forwards: 70\r\n`
      + `From: "a" <sip:a@127.0.0.1:${CALLER}>;tag=f4\r\nTo: ${header(busy, 'To')}\r\nCall-ID: ctl-INVITE-4\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`, SIP);
    const invites = callee.got.filter((m) => m.startsWith('INVITE '));
    expect(invites).toHaveLength(1);
    expect(invites[0]).not.toMatch(CTL);
    expect(caller.got.filter((m) => header(m, 'Call-ID') === 'ab\0cd' || header(m, 'Call-ID') === 'ctl-INVITE-2')).toEqual([]);
    for (const m of caller.got) expect(m).not.toMatch(CTL);
    expect(await metric('patchbay_sip_unanswered_total', 'reason="unsafe-header"')).toBe(droppedBefore + 2);
    expect(await daemon.settle(20_000)).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  }, 60_000);

  it('intmeth and an INVITE with an escaped NUL in the To display name get no answer and reach no callee; an escaped BEL in Subject gets a 400 naming it', async () => {
    caller.got.length = 0;
    const droppedBefore = await metric('patchbay_sip_unanswered_total', 'reason="unsafe-header"');
    const escapedBefore = await metric('patchbay_sip_parse_errors_total', 'code="PB_ERR_ESCAPED_CTL"');
    const invitesBefore = callee.got.filter((m) => m.startsWith('INVITE ')).length;
    await caller.send(Buffer.from(corpusBytes('rfc4475/intmeth.dat')).toString('latin1'), SIP);
    await caller.send(request('INVITE', 10, { To: `"x\\\0" <sip:x@127.0.0.1:${SIP}>` }), SIP);
    await caller.send(request('OPTIONS', 11, {}, 'Subject: "hi \\\x07"\r\n'), SIP);
    // the 400 to the last one is the readiness signal: an answer to the first two would have come before it
    await waitFor(() => caller.got.some((m) => header(m, 'Call-ID') === 'ctl-OPTIONS-11'), 15_000);
    const answer = caller.got.find((m) => header(m, 'Call-ID') === 'ctl-OPTIONS-11')!;
    expect(answer).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(header(answer, 'Warning')).toMatch(/^399 127\.0\.0\.1:\d+ "control character escaped in a quoted-string of Subject/);
    expect(caller.got).toHaveLength(1);
    for (const m of caller.got) expect(m).not.toMatch(CTL);
    expect(await metric('patchbay_sip_parse_errors_total', 'code="PB_ERR_ESCAPED_CTL"')).toBe(escapedBefore + 3);
    expect(await metric('patchbay_sip_unanswered_total', 'reason="unsafe-header"')).toBe(droppedBefore + 2);
    expect(callee.got.filter((m) => m.startsWith('INVITE '))).toHaveLength(invitesBefore);
    for (const m of callee.got) expect(m).not.toMatch(CTL);
    expect(await daemon.settle(20_000)).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  }, 60_000);
});
