/**
 * The Twilio-compatible REST API against the real daemon: the official twilio client, pointed at `patchbay serve`, creates a
 * call that reaches a SIPp UAS, fetches it, lists it, redirects it to new
 * TwiML and hangs it up; after a
 * restart the completed call is still served from the CDR.
 *
 * Flow:
 * 1. start a SIPp UAS (`uas-answer.xml`, 2 calls; it answers and waits for BYE);
 * 2. start the daemon with --account-sid, --auth-token and --cdr-dir;
 * 3. `client.api.baseUrl = http://127.0.0.1:<httpPort>`; `client.calls.create({to: sip:uas@127.0.0.1:<uasPort>, from, twiml})`
 *    (inline `<Pause length="30"/>`, so no webhook app is needed) → 201, status queued/initiated;
 * 4. poll `client.calls(sid).fetch()` until `in-progress`; `client.calls.list({status: 'in-progress'})` contains it;
 * 5. `client.calls(sid).update({twiml: '<Response><Hangup/></Response>'})` (redirect) → the UAS gets BYE;
 *    a second call is hung up with `update({status: 'completed'})`;
 * 6. both end `completed` with a duration; the daemon settles with nothing live;
 * 7. SIGTERM, restart with the same CDR directory: `client.calls(sid).fetch()` still answers, `completed`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startSipp, sippSuiteEnabled, type SippProcess } from './sipp.js';
import { e2ePorts } from './ports.js';
import { waitForValue } from '../support/wait.js';

const ACCOUNT_SID = `AC${'e2e0'.repeat(8)}`;
const AUTH_TOKEN = 'e2e-api-token';
const BASE = e2ePorts(import.meta.url).base;


describe.skipIf(!sippSuiteEnabled())('REST API against the real daemon (twilio client → Patchbay → SIPp UAS)', () => {
  const sipPort = BASE;
  const uasPort = BASE + 1;
  const httpPort = BASE + 2;
  let cdrDir = '';
  let daemon: DaemonProcess;
  let uas: SippProcess;
  const client = twilio(ACCOUNT_SID, AUTH_TOKEN);
  client.api.baseUrl = `http://127.0.0.1:${httpPort}`;
  const args = (): string[] => ['--listen', `udp:127.0.0.1:${sipPort}`, '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN, '--cdr-dir', cdrDir, '--t1', '100', '--t4', '500', '--timer-d', '1000'];

  beforeAll(async () => {
    cdrDir = mkdtempSync(join(tmpdir(), 'patchbay-api-e2e-'));
    uas = startSipp({ scenario: 'uas-answer.xml', localPort: uasPort, calls: 2, timeoutMs: 120_000 });
    await uas.ready;
    daemon = await startDaemonProcess(args(), httpPort);
  });
  afterAll(async () => {
    uas?.kill();
    await daemon?.stop();
    if (cdrDir) rmSync(cdrDir, { recursive: true, force: true });
  });

  it('creates, fetches, lists, redirects and hangs up a call, and keeps it after a restart', async () => {
    const call = await client.calls.create({
      to: `sip:uas@127.0.0.1:${uasPort}`, from: 'patchbay-e2e', twiml: '<Response><Pause length="30"/></Response>',
    });
    expect(['queued', 'initiated']).toContain(call.status);
    await waitForValue('in-progress', async () => ((await client.calls(call.sid).fetch()).status === 'in-progress' ? true : undefined));
    expect((await client.calls.list({ status: 'in-progress' })).map((c) => c.sid)).toContain(call.sid);
    await client.calls(call.sid).update({ twiml: '<Response><Hangup/></Response>' });
    const done = await waitForValue('completed', async () => {
      const c = await client.calls(call.sid).fetch();
      return c.status === 'completed' ? c : undefined;
    });
    expect(Number(done.duration)).toBeGreaterThanOrEqual(0);
    const second = await client.calls.create({ to: `sip:uas@127.0.0.1:${uasPort}`, from: 'patchbay-e2e', twiml: '<Response><Pause length="30"/></Response>' });
    await waitForValue('in-progress', async () => ((await client.calls(second.sid).fetch()).status === 'in-progress' ? true : undefined));
    expect((await client.calls(second.sid).update({ status: 'completed' })).sid).toBe(second.sid);
    await waitForValue('completed', async () => ((await client.calls(second.sid).fetch()).status === 'completed' ? true : undefined));
    const verdict = await uas.done;
    expect([verdict.code, verdict.successful]).toEqual([0, 2]);
    // the INVITE client transaction stays in RFC 6026's Accepted state for Timer M (64×T1)
    expect(await daemon.settle(20_000)).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
    await daemon.stop();
    daemon = await startDaemonProcess(args(), httpPort);
    expect((await client.calls(call.sid).fetch()).status).toBe('completed');
  });
});
