/**
 * A call over TLS on both legs, and a TwiML <Dial><Sip>…;transport=tls target. Debian's SIPp has no TLS, so stunnel (a real
 * TLS peer, Debian package stunnel4) terminates TLS for each SIPp:
 *   SIPp UAC (TCP) → stunnel client → TLS → Patchbay → TLS → stunnel server → SIPp UAS (TCP)
 * Patchbay verifies the callee's certificate against the test CA. With
 * CI=true the suite must run.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipp, sippSuiteEnabled } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { listening } from './ready.js';
import { selfSignedWithOpenssl } from '../support/tls-cert.js';
import { startWebApp, type WebApp } from '../support/web-app.js';
import twilio from 'twilio';

const enabled = sippSuiteEnabled();
const SIP = e2ePorts(import.meta.url).base;
const TLS = SIP + 1;
const UAS = SIP + 2;
const UAC = SIP + 3;
const STUNNEL_IN = SIP + 4; // SIPp UAC connects here (plain TCP)
const STUNNEL_OUT = SIP + 6; // Patchbay calls here (TLS)
const HTTP = SIP + 7;

function haveStunnel(): boolean {
  return spawnSync('stunnel', ['-version'], { stdio: 'ignore' }).error === undefined;
}

/**
 * A test certificate (cert.pem and key.pem in `dir`) and stunnel running
 * the service sections built from their paths.
 * @return the stunnel process and the certificate and key paths
 */
function startStunnel(dir: string, sections: (files: { cert: string; key: string }) => string[]): { stunnel: ChildProcess; cert: string; key: string } {
  if (!haveStunnel()) throw new Error('stunnel is not installed: apt-get install -y stunnel4');
  const pair = selfSignedWithOpenssl();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key);
  writeFileSync(join(dir, 'stunnel.conf'), ['foreground = yes', 'pid =', 'debug = 3', ...sections({ cert, key }), ''].join('\n'));
  return { stunnel: spawn('stunnel', [join(dir, 'stunnel.conf')], { stdio: 'ignore' }), cert, key };
}

describe.skipIf(!enabled)('SIPp call over TLS (through stunnel)', () => {
  let daemon: DaemonProcess | undefined;
  let stunnel: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-tls-e2e-'));

  beforeAll(async () => {
    ({ stunnel } = startStunnel(dir, ({ cert, key }) => [
      '[uac-side]', 'client = yes', `accept = 127.0.0.1:${STUNNEL_IN}`, `connect = 127.0.0.1:${TLS}`,
      `CAfile = ${cert}`, 'verifyPeer = yes',
      '[uas-side]', `accept = 127.0.0.1:${STUNNEL_OUT}`, `connect = 127.0.0.1:${UAS}`,
      `cert = ${cert}`, `key = ${key}`,
    ]));
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP},tls:127.0.0.1:${TLS}`,
      '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--tls-ca', join(dir, 'cert.pem'),
      '--route', `sip:callee@127.0.0.1:${STUNNEL_OUT};transport=tls`, '--timer-d', '2000', '--t1', '100',
    ], HTTP);
    await listening(STUNNEL_IN, 'tcp');
    await listening(STUNNEL_OUT, 'tcp');
  });

  afterAll(async () => {
    await daemon?.stop();
    stunnel?.kill();
  });

  it('completes INVITE/200/ACK/BYE with TLS on both legs and leaks nothing', async () => {
    const uas = startSipp({
      scenario: 'uas-answer-behind-tls.xml', localPort: UAS, transport: 't1', timeoutMs: 60_000,
      extra: ['-key', 'tls_port', String(STUNNEL_OUT)],
    });
    await uas.ready;
    const uac = await startSipp({
      scenario: 'uac-call-expect-200.xml', remote: `127.0.0.1:${STUNNEL_IN}`, localPort: UAC, service: 'callee',
      transport: 't1', durationMs: 300, timeoutMs: 60_000,
    }).done;
    expect(uac.code, `UAC: ${uac.errors}${uac.stderr}`).toBe(0);
    expect(uac.successful).toBe(1);
    const uasResult = await uas.done;
    expect(uasResult.code, `UAS: ${uasResult.errors}${uasResult.stderr}`).toBe(0);
    const stats = await daemon!.settle(15_000);
    expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  });
});

/**
 * TwiML: a UDP caller runs `<Dial><Sip>sip:uas@…;transport=tls</Sip></Dial>`
 *   SIPp UAC (UDP) → Patchbay → TLS → stunnel server → SIPp UAS (TCP)
 * The child leg is a TLS connection Patchbay opens and verifies against the
 * test CA; the action callback reports the TLS callee's 200.
 */
describe.skipIf(!enabled)('TwiML <Sip> target over TLS (through stunnel)', () => {
  const SIP2 = SIP + 10;
  const TLS2 = SIP2 + 1;
  const UAS2 = SIP2 + 2;
  const UAC2 = SIP2 + 3;
  const STUNNEL2 = SIP2 + 4; // Patchbay calls here (TLS)
  const HTTP2 = SIP2 + 5;
  const TOKEN = 'tls-twiml-token-0123456789abcdef';
  let daemon: DaemonProcess | undefined;
  let stunnel: ChildProcess | undefined;
  let app: WebApp | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-tls-twiml-e2e-'));

  beforeAll(async () => {
    ({ stunnel } = startStunnel(dir, ({ cert, key }) => [
      '[uas-side]', `accept = 127.0.0.1:${STUNNEL2}`, `connect = 127.0.0.1:${UAS2}`, `cert = ${cert}`, `key = ${key}`,
    ]));
    app = await startWebApp(TOKEN);
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP2},tls:127.0.0.1:${TLS2}`,
      '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--tls-ca', join(dir, 'cert.pem'),
      '--voice-url', `${app.base}/voice`, '--auth-token', TOKEN, '--timer-d', '2000', '--t1', '100',
    ], HTTP2);
    await listening(STUNNEL2, 'tcp');
  });

  afterAll(async () => {
    await daemon?.stop();
    stunnel?.kill();
    await app?.close();
  });

  it('dials the TLS callee, verifies it, bridges, and reports the 200 to the action URL', async () => {
    const response = new twilio.twiml.VoiceResponse();
    response.dial({ answerOnBridge: true, action: '/action' }).sip(`sip:uas@127.0.0.1:${STUNNEL2};transport=tls`);
    app!.route('/voice', response.toString());
    app!.route('/action', '<Response/>');
    const uas = startSipp({
      scenario: 'uas-answer-behind-tls.xml', localPort: UAS2, transport: 't1', timeoutMs: 60_000,
      extra: ['-key', 'tls_port', String(STUNNEL2)],
    });
    await uas.ready;
    const uac = await startSipp({
      scenario: 'uac-call-expect-200.xml', remote: `127.0.0.1:${SIP2}`, localPort: UAC2, service: 'support',
      durationMs: 300, timeoutMs: 60_000,
    }).done;
    expect(uac.code, `UAC: ${uac.errors}${uac.stderr}`).toBe(0);
    expect(uac.successful).toBe(1);
    const uasResult = await uas.done;
    expect(uasResult.code, `UAS: ${uasResult.errors}${uasResult.stderr}`).toBe(0);
    const [action] = await app!.waitFor('/action', 1);
    expect(action!.signatureValid).toBe(true);
    expect(action!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialSipResponseCode: '200' });
    expect(app!.to('/voice')).toHaveLength(1);
    const stats = await daemon!.settle(15_000);
    expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  });
});
