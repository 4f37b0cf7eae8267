/**
 * Calls live at a crash are accounted for after the restart: SIPp callers
 * call the real daemon in TwiML mode (a real web app answers the voice URL
 * and records the status callbacks, signatures checked with the twilio
 * package's validateRequest), the daemon dials SIPp callees, and once every
 * leg is up (answered, or ringing with answerOnBridge) and on disk it is
 * killed with SIGKILL. The restart on the same CDR directory closes every
 * leg: a final CDR line, fetch by SID answers `completed` (answered legs)
 * or `failed` (never answered) with an end time, and each leg's completed
 * status callback reaches the app exactly once. A second crash and restart
 * sends none again.
 *
 * Flow:
 * 1. SIPp UASes: one answers, one rings for ever; the app's /voice dials
 *    the first (the caller is answered at once) or, for the "ring" callers,
 *    the second with answerOnBridge (the caller rings too);
 * 2. SIPp UACs place the calls and hold them (a long pause);
 * 3. wait until the API shows every leg in-progress or ringing, the CDR
 *    file has each leg's line in that state and the heartbeat is newer;
 * 4. SIGKILL the daemon, stop the SIPps, restart;
 * 5. check the CDR, the API and the callbacks; SIGKILL again, restart,
 *    stop gracefully: no further callback.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startSipp, sippSuiteEnabled, type SippProcess } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startWebApp, type AppRequest, type WebApp } from '../support/web-app.js';
import { waitForValue } from '../support/wait.js';

const { VoiceResponse } = twilio.twiml;
const ACCOUNT = `AC${'c4a5'.repeat(8)}`;
const TOKEN = 'e2e-crash-token';
/** Its range of test/e2e/ports.ts (below the ephemeral range, moved by PATCHBAY_TEST_PORT_SHIFT). */
const BASE = e2ePorts(import.meta.url).base;
const SIP_PORT = BASE;
const HTTP_PORT = BASE + 1;
const UAS_ANSWER = BASE + 2;
const UAS_RING = BASE + 3;
const UAC_ANSWER = BASE + 4;
const UAC_RING = BASE + 5;
/** Callers whose callee answers, and callers whose callee only rings. */
const ANSWERED = 4;
const RINGING = 2;
const LEGS = 2 * (ANSWERED + RINGING);

interface CallJson { sid: string; status: string; direction: string; parent_call_sid: string | null; start_time: string | null; end_time: string | null; duration: string | null }


async function api<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/2010-04-01/Accounts/${ACCOUNT}/${path}`, {
    headers: { Authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}` },
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function listCalls(): Promise<CallJson[]> {
  return (await api<{ calls: CallJson[] }>('Calls.json?PageSize=1000')).body.calls;
}

/** The CDR's lines, the last one of each SID. */
function cdrLatest(dir: string): Map<string, Record<string, unknown>> {
  const latest = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(join(dir, 'calls.jsonl'), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      latest.set(String(r.sid), r);
    } catch {
      // a line being written
    }
  }
  return latest;
}

function heartbeat(dir: string): number {
  try {
    return Number(readFileSync(join(dir, 'calls.heartbeat'), 'latin1').split('\n')[0]);
  } catch {
    return 0;
  }
}

/** The parsed JSON log lines of `daemon` with message `msg`. */
function logged(daemon: DaemonProcess, msg: string): Array<Record<string, unknown>> {
  return daemon.logs.filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function kill9(daemon: DaemonProcess): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((r) => daemon.child.once('exit', r));
  daemon.child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!sippSuiteEnabled())('kill -9 during calls, restart: every call is accounted for', () => {
  const cdrDir = mkdtempSync(join(tmpdir(), 'patchbay-crash-e2e-'));
  const sipps: SippProcess[] = [];
  const daemons: DaemonProcess[] = [];
  let app: WebApp | undefined;

  afterAll(async () => {
    for (const s of sipps) s.kill();
    await Promise.all(sipps.map((s) => s.done));
    for (const d of daemons) await kill9(d);
    await app?.close();
    rmSync(cdrDir, { recursive: true, force: true });
  });

  const start = async (): Promise<DaemonProcess> => {
    const daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP_PORT}`, '--voice-url', `${app!.base}/voice`, '--status-callback', `${app!.base}/status`,
      '--account-sid', ACCOUNT, '--auth-token', TOKEN, '--cdr-dir', cdrDir, '--log-level', 'info',
    ], HTTP_PORT);
    daemons.push(daemon);
    return daemon;
  };

  it('closes every leg once: a final CDR line, completed or failed by SID with an end time, one signed completed callback each', async () => {
    app = await startWebApp(TOKEN);
    const web = app;
    web.route('/voice', (req) => {
      const r = new VoiceResponse();
      if (req.params.To?.includes('sip:ring@')) {
        r.dial({ answerOnBridge: true, timeout: 600 }).sip({ statusCallback: `${web.base}/child-status` }, `sip:ring@127.0.0.1:${UAS_RING}`);
      } else {
        r.dial({ timeout: 600 }).sip({ statusCallback: `${web.base}/child-status` }, `sip:answer@127.0.0.1:${UAS_ANSWER}`);
      }
      return r.toString();
    });
    web.route('/status', '');
    web.route('/child-status', '');
    let daemon = await start();

    sipps.push(startSipp({ scenario: 'uas-answer.xml', localPort: UAS_ANSWER, calls: ANSWERED, timeoutMs: 170_000 }));
    sipps.push(startSipp({ scenario: 'uas-ring-no-answer.xml', localPort: UAS_RING, calls: RINGING, timeoutMs: 170_000 }));
    const callers = { rate: 20, durationMs: 160_000, timeoutMs: 170_000, remote: `127.0.0.1:${SIP_PORT}` };
    sipps.push(startSipp({ ...callers, scenario: 'uac-call-expect-200.xml', localPort: UAC_ANSWER, service: 'answer', calls: ANSWERED }));
    sipps.push(startSipp({ ...callers, scenario: 'uac-call-expect-200.xml', localPort: UAC_RING, service: 'ring', calls: RINGING }));

    // every leg up: answered callers and their callees in progress, the ringing ones ringing
    const live = await waitForValue('every leg in progress or ringing', async () => {
      const calls = await listCalls();
      const inProgress = calls.filter((c) => c.status === 'in-progress').length;
      const ringing = calls.filter((c) => c.status === 'ringing').length;
      return calls.length === LEGS && inProgress === 2 * ANSWERED && ringing === 2 * RINGING ? calls : undefined;
    });
    // ...and on disk (a crash may lose the last batch, 200 ms: wait for it): the start line of each, and
    // the answer line of those answered (ringing is not written); the heartbeat beating since
    await waitForValue('every leg in the CDR as it is now', () => {
      const latest = cdrLatest(cdrDir);
      return live.every((c) => (c.status === 'in-progress' ? latest.get(c.sid)?.status === 'in-progress' : latest.has(c.sid))) ? true : undefined;
    });
    const upAt = Date.now();
    await waitForValue('a heartbeat after every leg was up', () => (heartbeat(cdrDir) >= upAt ? true : undefined), { timeoutMs: 30_000 });

    const killedAt = Date.now();
    await kill9(daemon);
    for (const s of sipps.splice(0)) {
      s.kill();
      await s.done;
    }

    daemon = await start();
    const restored = logged(daemon, 'cdr restored');
    expect(restored[0], daemon.logs.join('\n')).toMatchObject({ lostCalls: LEGS });
    expect(await daemon.stats()).toMatchObject({ calls: 0, dialogs: 0 });

    const answered = new Set(live.filter((c) => c.status === 'in-progress').map((c) => c.sid));
    const expected = (sid: string): string => (answered.has(sid) ? 'completed' : 'failed');

    // the CDR: a final line for each
    const latest = cdrLatest(cdrDir);
    for (const c of live) {
      const line = latest.get(c.sid)!;
      expect(line.status, c.sid).toBe(expected(c.sid));
      expect(line.endTime as number).toBeGreaterThanOrEqual(upAt);
      expect(line.endTime as number).toBeLessThanOrEqual(killedAt);
    }

    // the API: fetch by SID and the list, as a Twilio user would
    for (const c of live) {
      const fetched = await api<CallJson>(`Calls/${c.sid}.json`);
      expect(fetched.status, c.sid).toBe(200);
      expect(fetched.body).toMatchObject({ sid: c.sid, status: expected(c.sid), direction: c.direction, parent_call_sid: c.parent_call_sid });
      expect(fetched.body.end_time).toMatch(/ \+0000$/);
      if (answered.has(c.sid)) {
        expect(fetched.body.start_time).toBe(c.start_time);
        expect(Number(fetched.body.duration)).toBeGreaterThanOrEqual(0);
      } else {
        expect(fetched.body.duration).toBe('0');
      }
    }
    const listed = await listCalls();
    expect(listed.map((c) => [c.sid, c.status]).sort()).toEqual(live.map((c) => [c.sid, expected(c.sid)]).sort());

    // the completed callbacks: one per leg, signed, parents to --status-callback, children to their <Sip statusCallback>
    const parents = live.filter((c) => c.direction === 'inbound');
    const children = live.filter((c) => c.direction === 'outbound-dial');
    const parentCallbacks = await web.waitFor('/status', parents.length, 30_000);
    const childCallbacks = await web.waitFor('/child-status', children.length, 30_000);
    await waitForValue('the callbacks reported sent', () => (logged(daemon, 'lost calls reported').length > 0 ? true : undefined), { timeoutMs: 30_000 });
    const check = (callbacks: AppRequest[], legs: CallJson[]): void => {
      expect(callbacks.map((r) => r.params.CallSid).sort()).toEqual(legs.map((c) => c.sid).sort());
      for (const r of callbacks) {
        expect(r.signatureValid, JSON.stringify(r.params)).toBe(true);
        expect(r.params).toMatchObject({ AccountSid: ACCOUNT, CallStatus: expected(r.params.CallSid!), CallbackSource: 'call-progress-events' });
        expect(r.params.CallDuration).toMatch(/^\d+$/);
        expect(r.params.Timestamp).toMatch(/ \+0000$/);
      }
    };
    check(parentCallbacks, parents);
    check(childCallbacks, children);
    expect(logged(daemon, 'lost calls reported')[0]).toMatchObject({ sent: LEGS, failed: 0 });
    const callbacksSoFar = web.requests.length;

    // crash again, restart: nothing is lost any more, nothing is sent again
    await kill9(daemon);
    daemon = await start();
    expect(logged(daemon, 'cdr restored')[0]).toMatchObject({ lostCalls: 0 });
    const again = await api<CallJson>(`Calls/${live[0]!.sid}.json`);
    expect(again.body.status).toBe(expected(live[0]!.sid));
    // a graceful stop waits for any callback in flight: after the exit, all it would send was sent
    expect(await daemon.stop()).toBe(0);
    expect(web.requests.length).toBe(callbacksSoFar);
  });
});
