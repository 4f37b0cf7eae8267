/**
 * Bounded transfer stress: 500 calls at 50 per second, each
 * transferred by a SIPp transferor (REFER, NOTIFYs, BYE) to a SIPp target
 * through the referUrl webhook of a real web app, answerOnBridge true.
 * Every transfer must complete and the daemon must end with nothing live.
 * Prints transfers/s, failures and the p99 time from REFER to the caller
 * being connected to the target (BENCHMARKS.md records them).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { startSipp, sippSuiteEnabled, haveSipp, describeRun } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startWebApp, type WebApp } from '../support/web-app.js';

const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;
const CALLS = 500;
const RATE = 50;


describe.skipIf(!enabled)('transfer stress', () => {
  let app: WebApp | undefined;
  let daemon: DaemonProcess | undefined;
  afterAll(async () => {
    await daemon?.stop();
    await app?.close();
  });

  it(`${CALLS} transfers at ${RATE}/s all complete and leave nothing behind`, async () => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
    const transferor = BASE + 11;
    const target = BASE + 12;
    app = await startWebApp('stress-token');
    app.route('/voice', `<Response><Dial referUrl="/refer" answerOnBridge="true"><Sip>sip:agenta@127.0.0.1:${transferor}</Sip></Dial></Response>`);
    app.route('/refer', (req) => `<Response><Dial><Sip>${req.params.ReferTransferTarget!.replace(/^<|>$/g, '')}</Sip></Dial></Response>`);
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${BASE}`, '--voice-url', `${app.base}/voice`, '--auth-token', 'stress-token',
      '--t1', '100', '--t4', '500', '--timer-d', '1000', '--log-level', 'info',
    ], BASE + 5);
    const t = startSipp({ scenario: 'uas-transferor.xml', localPort: transferor, calls: CALLS, timeoutMs: 120_000, extra: ['-key', 'refer_to', `<sip:agentb@127.0.0.1:${target}>`] });
    const b = startSipp({ scenario: 'uas-answer.xml', localPort: target, calls: CALLS, timeoutMs: 120_000 });
    await Promise.all([t.ready, b.ready]);
    const started = Date.now();
    const caller = await startSipp({ scenario: 'uac-twiml-reinvite-then-bye.xml', remote: `127.0.0.1:${BASE}`, localPort: BASE + 13, service: 'support', calls: CALLS, rate: RATE, durationMs: 1000, timeoutMs: 120_000 }).done;
    const elapsed = (Date.now() - started) / 1000;
    const [tr, tg] = await Promise.all([t.done, b.done]);
    expect(caller.code, `caller ${describeRun(caller)}`).toBe(0);
    expect(caller.successful).toBe(CALLS);
    expect(tr.code, `transferor ${describeRun(tr)}`).toBe(0);
    expect(tr.successful).toBe(CALLS);
    expect(tg.successful).toBe(CALLS);
    const ms = daemon.logs.filter((l) => l.includes('"msg":"transfer completed"'))
      .map((l) => Number(/connected (\d+) ms/.exec(l)?.[1] ?? NaN)).filter((n) => Number.isFinite(n)).sort((x, y) => x - y);
    const failed = daemon.logs.filter((l) => l.includes('"msg":"transfer failed"')).length;
    expect(ms).toHaveLength(CALLS);
    expect(failed).toBe(0);
    const p = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
    console.log(`transfer stress: ${CALLS} transfers in ${elapsed.toFixed(1)} s (${(CALLS / elapsed).toFixed(1)}/s offered ${RATE}/s), ${failed} failed; REFER → caller connected to target: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${ms.at(-1)} ms`);
    const stats = await daemon.settle(20_000);
    expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  }, 180_000);
});
