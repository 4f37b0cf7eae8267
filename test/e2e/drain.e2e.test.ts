/**
 * SIGTERM drains the daemon: /readyz turns 503, a new INVITE gets 503, the
 * established call goes on until the grace period ends, then both legs get
 * a BYE and the process exits 0. Also: OPTIONS to Patchbay itself is 200,
 * and a TwiML caller still ringing when the grace period ends gets 503.
 */
import { describe, it, expect } from 'vitest';
import { createSocket } from 'node:dgram';
import { startSipp, sippSuiteEnabled, describeRun } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess } from './daemon.js';
import { waitUntil } from './ready.js';
import { startWebApp } from '../support/web-app.js';
import { startTestUa } from './test-ua.js';

const enabled = sippSuiteEnabled();
const SIP = e2ePorts(import.meta.url).base;
const UAS = SIP + 1;
const UAC = SIP + 2;
const UAC2 = SIP + 3;
/** The OPTIONS probe's own port. */
const PROBE = SIP + 4;
const HTTP = SIP + 5;

/** Send one OPTIONS over UDP and return the status line of the answer. */
function options(port: number): Promise<string> {
  const socket = createSocket('udp4');
  const msg = [
    `OPTIONS sip:patchbay@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${PROBE};branch=z9hG4bK-opt-1`, 'Max-Forwards: 70',
    'From: <sip:probe@127.0.0.1>;tag=p1', `To: <sip:patchbay@127.0.0.1:${port}>`, 'Call-ID: options-probe-1', 'CSeq: 1 OPTIONS',
    'Content-Length: 0', '', '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error('no answer to OPTIONS')); }, 3000);
    socket.on('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m.toString('latin1').split('\r\n')[0]!);
    });
    socket.bind(PROBE, '127.0.0.1', () => socket.send(msg, port, '127.0.0.1'));
  });
}

describe.skipIf(!enabled)('drain on SIGTERM', () => {
  it('answers OPTIONS, refuses new calls with 503 while draining, BYEs the rest after the grace period', async () => {
    const daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP}`, '--route', `sip:callee@127.0.0.1:${UAS}`, '--drain-grace', '2', '--t1', '100', '--timer-d', '2000',
    ], HTTP);
    expect(await options(SIP)).toBe('SIP/2.0 200 OK');

    const uas = startSipp({ scenario: 'uas-answer.xml', localPort: UAS, timeoutMs: 60_000 });
    await uas.ready;
    const call = startSipp({ scenario: 'uac-call-expect-bye.xml', remote: `127.0.0.1:${SIP}`, localPort: UAC, service: 'callee', timeoutMs: 60_000 });
    await waitUntil('the call is up', async () => (await daemon.stats()).calls > 0);
    expect((await daemon.stats()).calls).toBe(1);

    const started = Date.now();
    daemon.child.kill('SIGTERM');
    await waitUntil('GET /readyz answers 503 once draining', async () => (await fetch(`http://127.0.0.1:${HTTP}/readyz`)).status === 503);
    const refused = await startSipp({
      scenario: 'uac-call-expect-503.xml', remote: `127.0.0.1:${SIP}`, localPort: UAC2, service: 'callee', timeoutMs: 20_000,
    }).done;
    expect(refused.code, refused.errors).toBe(0);

    const [caller, callee] = await Promise.all([call.done, uas.done]);
    expect(caller.code, `caller: ${caller.errors}`).toBe(0);
    expect(callee.code, `callee: ${callee.errors}`).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const exit = await daemon.stop();
    expect(exit).toBe(0);
    expect(daemon.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });

  it('a TwiML call whose <Dial> still rings when the grace period ends: the caller gets 503, the dialled party CANCEL', async () => {
    const SIP2 = SIP + 10;
    const TOKEN = 'drain-token-0123456789abcdef';
    const app = await startWebApp(TOKEN);
    const callee = await startTestUa(SIP2 + 1);
    try {
      callee.script([{ status: 180 }]);
      app.route('/voice', `<Response><Dial timeout="60" answerOnBridge="true"><Sip>sip:agent@127.0.0.1:${SIP2 + 1}</Sip></Dial></Response>`);
      const daemon = await startDaemonProcess([
        '--listen', `udp:127.0.0.1:${SIP2}`, '--voice-url', `${app.base}/voice`, '--auth-token', TOKEN,
        '--drain-grace', '1', '--t1', '100', '--timer-d', '1000',
      ], SIP2 + 5);
      const caller = startSipp({ scenario: 'uac-call-expect-503.xml', remote: `127.0.0.1:${SIP2}`, localPort: SIP2 + 2, service: 'support', timeoutMs: 30_000 });
      await callee.waitUntil(() => callee.calls.length > 0, 5000);
      daemon.child.kill('SIGTERM');
      const result = await caller.done;
      expect(result.code, describeRun(result)).toBe(0);
      expect(callee.calls[0]!.cancels, 'the ringing child is cancelled').toHaveLength(1);
      expect(await daemon.stop()).toBe(0);
    } finally {
      callee.close();
      await app.close();
    }
  });
});
