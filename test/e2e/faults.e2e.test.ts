/**
 * A call whose next message cannot be built ends alone, end to end: the
 * dialled party answers with a Record-Route that is no usable Request-URI
 * (strict routing, RFC 3261 §12.2.1.1, and a space in the URI), so its 2xx
 * cannot be ACKed nor its dialog used. The real
 * daemon fails that attempt (SIP 502), the SIPp caller gets its final
 * response, the CDR line and the completed status callback are written,
 * /stats returns to zero, the daemon keeps taking calls, and SIGTERM ends
 * it with exit code 0.
 */
import { describe, it, expect } from 'vitest';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipp, sippSuiteEnabled, describeRun } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startWebApp } from '../support/web-app.js';
import { startTestUa } from './test-ua.js';

const enabled = sippSuiteEnabled();
const SIP = e2ePorts(import.meta.url).base;
const UA = SIP + 1;
const CALLER = SIP + 2;
const TOKEN = 'faults-token-0123456789abcdef';

/** The last CDR record of each call in `dir` (calls.jsonl), once `count` calls have ended there (bounded wait). */
async function cdrLines(dir: string, count: number): Promise<Array<Record<string, unknown>>> {
  const file = join(dir, 'calls.jsonl');
  const read = (): Array<Record<string, unknown>> => {
    const bySid = new Map<unknown, Record<string, unknown>>();
    if (existsSync(file)) for (const l of readFileSync(file, 'utf8').split('\n').filter(Boolean)) { const r = JSON.parse(l) as Record<string, unknown>; bySid.set(r.sid, r); }
    return [...bySid.values()].filter((r) => ['completed', 'failed', 'busy', 'no-answer', 'canceled'].includes(String(r.status)));
  };
  for (let i = 0; i < 100 && read().length < count; i++) await new Promise((r) => setTimeout(r, 100));
  return read();
}

describe.skipIf(!enabled)('a call whose next message cannot be built', () => {
  it('a dialled party answering with an unusable route: the attempt fails, the caller gets 603, CDR and callback written, /stats zero, SIGTERM exits 0', async () => {
    const app = await startWebApp(TOKEN);
    const ua = await startTestUa(UA);
    const cdrDir = mkdtempSync(join(tmpdir(), 'pb-faults-'));
    let daemon: DaemonProcess | undefined;
    try {
      app.route('/voice', `<Response><Dial answerOnBridge="true" timeout="600" action="/after"><Sip>sip:agent@127.0.0.1:${UA}</Sip></Dial></Response>`);
      app.route('/after', '<Response><Hangup/></Response>');
      ua.script([{ status: 180 }, { status: 200, sdp: true, headers: { 'Record-Route': `<sip:proxy@127.0.0.1:${UA} x>` } }]);
      daemon = await startDaemonProcess([
        '--listen', `udp:127.0.0.1:${SIP}`, '--voice-url', `${app.base}/voice`, '--auth-token', TOKEN, '--status-callback', `${app.base}/status`,
        '--cdr-dir', cdrDir, '--t1', '100', '--t4', '500', '--timer-d', '1000', '--drain-grace', '30',
      ], SIP + 5);
      const result = await startSipp({ scenario: 'uac-call-expect-603.xml', remote: `127.0.0.1:${SIP}`, localPort: CALLER, service: 'support', timeoutMs: 60_000 }).done;
      expect(result.code, describeRun(result)).toBe(0);
      expect(ua.calls[0]!.answered, 'the dialled party answered').toBe(true);

      const [after] = await app.waitFor('/after', 1);
      expect(after!.params).toMatchObject({ DialCallStatus: 'failed', DialSipResponseCode: '502' });
      const [status] = await app.waitFor('/status', 1);
      expect(status!.params.CallStatus).toBe('completed');
      const stats = await daemon.settle(15_000);
      expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
      const cdr = await cdrLines(cdrDir, 2);
      expect(cdr.map((c) => [c.direction, c.status]).sort()).toEqual([['inbound', 'completed'], ['outbound-dial', 'failed']]);

      // the daemon goes on: the next call connects and ends normally
      ua.script([{ status: 180 }, { status: 200, sdp: true }]);
      const next = await startSipp({ scenario: 'uac-call-expect-bye.xml', remote: `127.0.0.1:${SIP}`, localPort: CALLER, service: 'support', timeoutMs: 60_000 });
      await ua.waitUntil(() => ua.calls.length === 2 && ua.calls[1]!.acks.length > 0, 10_000);
      await ua.bye(ua.calls[1]!);
      const second = await next.done;
      expect(second.code, describeRun(second)).toBe(0);
      expect((await daemon.settle(15_000)).calls).toBe(0);
      // nothing live: the drain ends at once, exit code 0
      expect(await daemon.stop()).toBe(0);
      expect(daemon.logs.some((l) => l.includes('"msg":"message not sent"') && l.includes('"what":"ACK"'))).toBe(true);
    } finally {
      if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
      ua.close();
      await app.close();
      rmSync(cdrDir, { recursive: true, force: true });
    }
  });

  it('SIGTERM with a connected call whose BYE to the caller cannot be built: the dialled party gets BYE, CDR and callback written, exit code 0', async () => {
    const app = await startWebApp(TOKEN);
    const ua = await startTestUa(UA);
    const cdrDir = mkdtempSync(join(tmpdir(), 'pb-faults-'));
    const caller = createSocket('udp4');
    let daemon: DaemonProcess | undefined;
    try {
      app.route('/voice', `<Response><Dial answerOnBridge="true"><Sip>sip:agent@127.0.0.1:${UA}</Sip></Dial></Response>`);
      ua.script([{ status: 180 }, { status: 200, sdp: true }]);
      daemon = await startDaemonProcess([
        '--listen', `udp:127.0.0.1:${SIP}`, '--voice-url', `${app.base}/voice`, '--auth-token', TOKEN, '--status-callback', `${app.base}/status`,
        '--cdr-dir', cdrDir, '--t1', '100', '--t4', '500', '--timer-d', '1000', '--drain-grace', '1',
      ], SIP + 5);
      // a raw caller whose INVITE carries a Record-Route our BYE cannot use (strict route with a space)
      const answered = new Promise<string>((resolve) => caller.on('message', (m) => { const t = m.toString(); if (t.startsWith('SIP/2.0 200')) resolve(t); }));
      await new Promise<void>((resolve) => caller.bind(CALLER, '127.0.0.1', () => resolve()));
      const sdp = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
      const common = [`From: <sip:alice@127.0.0.1:${CALLER}>;tag=a1`, 'Call-ID: faults-drain-1', 'Max-Forwards: 70'];
      caller.send([`INVITE sip:support@127.0.0.1:${SIP} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${CALLER};branch=z9hG4bK-fd-1`, ...common, `To: <sip:support@127.0.0.1:${SIP}>`,
        'CSeq: 1 INVITE', `Contact: <sip:alice@127.0.0.1:${CALLER}>`, `Record-Route: <sip:proxy@127.0.0.1:${CALLER} x>`, 'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp].join('\r\n'), SIP, '127.0.0.1');
      const ok = await answered;
      const to = /^To: (.*)$/m.exec(ok)![1]!.trim();
      caller.send([`ACK sip:support@127.0.0.1:${SIP} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${CALLER};branch=z9hG4bK-fd-2`, ...common, `To: ${to}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'), SIP, '127.0.0.1');
      await ua.waitUntil(() => ua.calls[0]?.acks.length === 1, 10_000);
      expect((await daemon.stats()).calls).toBe(1);

      const exit = await daemon.stop();
      expect(exit, daemon.logs.filter((l) => l.includes('"level":"error"')).join('\n')).toBe(0);
      expect(ua.calls[0]!.byes, 'the dialled party is hung up').toHaveLength(1);
      expect(daemon.logs.some((l) => l.includes('"msg":"message not sent"') && l.includes('"what":"BYE"'))).toBe(true);
      const [status] = await app.waitFor('/status', 1);
      expect(status!.params.CallStatus).toBe('completed');
      const cdr = await cdrLines(cdrDir, 2);
      expect(cdr.map((c) => [c.direction, c.status]).sort()).toEqual([['inbound', 'completed'], ['outbound-dial', 'completed']]);
    } finally {
      if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
      caller.close();
      ua.close();
      await app.close();
      rmSync(cdrDir, { recursive: true, force: true });
    }
  });
});
