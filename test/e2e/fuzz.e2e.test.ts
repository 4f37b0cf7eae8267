/**
 * The network fuzzer (npm run fuzz:daemon, bench/fuzz/) as part of the test suite: a short run of
 * mutated UDP datagrams and TCP streams while SIPp places legitimate calls, which must leave the
 * daemon alive, every call successful, /stats at zero and RSS within 20 %; and the defects earlier
 * fuzz runs found, each replayed with one well-formed exchange. As root the fuzzer runs in its own
 * network namespace (mutated addresses cannot leave the machine); otherwise on loopback.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../support/wasm.js';
import { startSipp, sippSuiteEnabled, haveSipp } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { waitUntil } from './ready.js';

const enabled = sippSuiteEnabled();
/** A fixed seed, so that a failure here replays with `npm run fuzz:daemon -- --seed` (PATCHBAY_FUZZ_SEED overrides it). */
const SEED = Number(process.env.PATCHBAY_FUZZ_SEED ?? 0x14f022);
const BASE = e2ePorts(import.meta.url).base;

/** Runs dist/bench/fuzz/run.js and returns its exit code, output and JSON verdict. */
function runFuzzer(args: string[]): Promise<{ code: number | null; output: string; verdict: { ok: boolean; failures: string[] } | undefined }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'fuzz', 'run.js'), ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  return new Promise((resolve) => child.on('close', (code) => {
    const line = output.split('\n').find((l) => l.startsWith('FUZZ-VERDICT '));
    resolve({ code, output, verdict: line ? JSON.parse(line.slice('FUZZ-VERDICT '.length)) : undefined });
  }));
}

describe.skipIf(!enabled)('network fuzzing of the daemon', () => {
  beforeAll(() => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
  });

  it(`3,000 mutated UDP datagrams and TCP messages while SIPp calls: alive, every call succeeds, /stats back to zero, RSS within 20 % (seed ${SEED})`, async () => {
    const { code, output, verdict } = await runFuzzer(['--count', '3000', '--seed', String(SEED), '--port-base', String(BASE)]);
    expect(verdict, output.slice(-4000)).toBeDefined();
    expect(verdict!.failures, output.slice(-4000)).toEqual([]);
    expect(code, output.slice(-4000)).toBe(0);
  }, 170_000);

  describe('a TCP caller that never ACKs the 200', () => {
    const sip = BASE + 10;
    let daemon: DaemonProcess | undefined;
    afterAll(async () => { await daemon?.stop(); });

    it('is hung up after 64×T1 (RFC 3261 §13.3.1.4): the call, both dialogs and the callee leg end', async () => {
      const uasPort = sip + 1;
      daemon = await startDaemonProcess([
        '--listen', `udp:127.0.0.1:${sip},tcp:127.0.0.1:${sip}`, '--route', `sip:callee@127.0.0.1:${uasPort}`,
        '--t1', '100', '--timer-d', '1000',
      ], sip + 5);
      const uas = startSipp({ scenario: 'uas-answer.xml', localPort: uasPort, timeoutMs: 60_000 });
      await uas.ready;
      const socket = connect({ host: '127.0.0.1', port: sip });
      await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
      const local = `127.0.0.1:${socket.localPort}`;
      const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
      socket.write([
        `INVITE sip:callee@127.0.0.1:${sip} SIP/2.0`, `Via: SIP/2.0/TCP ${local};branch=z9hG4bK-noack-1`, 'Max-Forwards: 70',
        `From: <sip:caller@${local}>;tag=noack`, `To: <sip:callee@127.0.0.1:${sip}>`, 'Call-ID: tcp-caller-never-acks', 'CSeq: 1 INVITE',
        `Contact: <sip:caller@${local};transport=tcp>`, 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp,
      ].join('\r\n'));
      let received = '';
      socket.on('data', (d: Buffer) => { received += d.toString('latin1'); });
      await waitUntil('the 200 to the INVITE', () => received.includes('SIP/2.0 200'));
      expect((await daemon.stats()).calls).toBe(1);
      // the caller goes away without its ACK; before the fix the call stayed live for ever
      socket.destroy();
      const stats = await daemon.settle(30_000);
      expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
      const callee = await uas.done;
      expect(callee.code, `the callee got its BYE: ${callee.errors}`).toBe(0);
    });
  });
});
