/**
 * What a user sees of calls without debug logs: one `info` line when a call
 * starts and one when it ends (CallSid or SIP Call-ID, from, to, status,
 * duration, SIP code), and `patchbay_calls_handled_total` counting every
 * admitted INVITE (also one answered 480 for want of a route, the embedded
 * defaults' case). Real daemon, real SIPp, JSON logs read from stderr.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSipp, sippSuiteEnabled, haveSipp, describeRun } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startWebApp, type WebApp } from '../support/web-app.js';
import { listening } from './ready.js';

const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;

type LogLine = Record<string, unknown>;

/** The daemon's JSON log lines whose msg is `msg`. */
function lines(daemon: DaemonProcess, msg: string): LogLine[] {
  return daemon.logs.flatMap((l) => {
    try { const j = JSON.parse(l) as LogLine; return j.msg === msg ? [j] : []; } catch { return []; }
  });
}

/** Wait (bounded) until the daemon logged `count` lines with `msg`. */
async function waitForLines(daemon: DaemonProcess, msg: string, count: number, timeoutMs = 20_000): Promise<LogLine[]> {
  const deadline = Date.now() + timeoutMs;
  while (lines(daemon, msg).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return lines(daemon, msg);
}

async function handledTotal(daemon: DaemonProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${daemon.httpPort}/metrics`)).text();
  const m = /^patchbay_calls_handled_total (\d+)$/m.exec(text);
  return Number(m?.[1] ?? NaN);
}

describe.skipIf(!enabled)('per-call info logs and patchbay_calls_handled_total', () => {
  let daemon: DaemonProcess | undefined;
  let app: WebApp | undefined;

  afterEach(async () => {
    await daemon?.stop();
    await app?.close();
    daemon = undefined;
    app = undefined;
  });

  it('an admitted INVITE without a route (480) is counted in patchbay_calls_handled_total and logged as ended', async () => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
    const sip = BASE;
    daemon = await startDaemonProcess(['--listen', `udp:127.0.0.1:${sip}`], sip + 5);
    expect(await handledTotal(daemon)).toBe(0);
    const uac = await startSipp({ scenario: 'uac-call-expect-480.xml', remote: `127.0.0.1:${sip}`, localPort: sip + 2, service: 'nobody', timeoutMs: 30_000 }).done;
    expect(uac.code, `UAC ${describeRun(uac)}`).toBe(0);
    expect(await handledTotal(daemon)).toBe(1);
    const [ended] = await waitForLines(daemon, 'call ended', 1);
    expect(ended).toMatchObject({ level: 'info', status: 'failed', sipResponseCode: 480, duration: 0, to: `sip:nobody@127.0.0.1:${sip}` });
    expect(String(ended?.from)).toMatch(/^sip:sipp@127\.0\.0\.1/);
  });

  it('a static-route call logs "call started" and "call ended" (completed, 200, its duration) at info', async () => {
    const sip = BASE + 10;
    daemon = await startDaemonProcess(['--listen', `udp:127.0.0.1:${sip}`, '--route', `sip:callee@127.0.0.1:${sip + 1}`], sip + 5);
    const uas = startSipp({ scenario: 'uas-answer.xml', localPort: sip + 1, timeoutMs: 60_000 });
    await listening(sip + 1, 'udp');
    const uac = await startSipp({
      scenario: 'uac-call-expect-200.xml', remote: `127.0.0.1:${sip}`, localPort: sip + 2, service: 'callee', durationMs: 1200, timeoutMs: 60_000,
    }).done;
    expect(uac.code, `UAC ${describeRun(uac)}`).toBe(0);
    expect((await uas.done).code).toBe(0);
    const [started] = await waitForLines(daemon, 'call started', 1);
    const [ended] = await waitForLines(daemon, 'call ended', 1);
    expect(started).toMatchObject({ level: 'info', to: `sip:callee@127.0.0.1:${sip}`, route: `sip:callee@127.0.0.1:${sip + 1}` });
    expect(ended).toMatchObject({ level: 'info', status: 'completed', sipResponseCode: 200, sipCallId: started?.sipCallId });
    expect(ended?.duration).toBeGreaterThanOrEqual(1);
    expect(await handledTotal(daemon)).toBe(1);
  });

  it('a TwiML call logs each leg with its CallSid: the caller (inbound) and the dialled party (outbound-dial)', async () => {
    const sip = BASE + 20;
    app = await startWebApp('log-token');
    app.route('/voice', `<Response><Dial answerOnBridge="true"><Sip>sip:agent@127.0.0.1:${sip + 1}</Sip></Dial></Response>`);
    daemon = await startDaemonProcess(['--listen', `udp:127.0.0.1:${sip}`, '--voice-url', `${app.base}/voice`, '--auth-token', 'log-token'], sip + 5);
    const uas = startSipp({ scenario: 'uas-answer.xml', localPort: sip + 1, timeoutMs: 60_000 });
    await listening(sip + 1, 'udp');
    const uac = await startSipp({ scenario: 'uac-call-expect-200.xml', remote: `127.0.0.1:${sip}`, localPort: sip + 2, service: 'support', durationMs: 500, timeoutMs: 60_000 }).done;
    expect(uac.code, `UAC ${describeRun(uac)}`).toBe(0);
    expect((await uas.done).code).toBe(0);
    const started = await waitForLines(daemon, 'call started', 2);
    const ended = await waitForLines(daemon, 'call ended', 2);
    const parent = started.find((l) => l.direction === 'inbound');
    const child = started.find((l) => l.direction === 'outbound-dial');
    expect(parent).toMatchObject({ level: 'info', callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/), to: `sip:support@127.0.0.1:${sip}` });
    expect(child).toMatchObject({ level: 'info', callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/), parentCallSid: parent?.callSid, to: `sip:agent@127.0.0.1:${sip + 1}` });
    expect(ended.find((l) => l.callSid === parent?.callSid)).toMatchObject({ status: 'completed', sipResponseCode: 200, duration: expect.any(Number) });
    expect(ended.find((l) => l.callSid === child?.callSid)).toMatchObject({ status: 'completed', sipResponseCode: 200, parentCallSid: parent?.callSid });
    expect(await handledTotal(daemon)).toBe(1);
  });
});
