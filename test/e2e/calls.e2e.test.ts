/**
 * SIPp against the real daemon on loopback: a SIPp
 * UAC calls Patchbay, whose static route reaches a SIPp UAS. Each case
 * checks both SIPp verdicts and that the daemon ends with no live call,
 * dialog or transaction. With CI=true the suite must run (sipp missing is a
 * failure, not a skip).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startSipp, sippSuiteEnabled, haveSipp, describeRun, type SippResult } from './sipp.js';
import { e2ePorts } from './ports.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';
import { startLossyRelay } from './lossy-relay.js';

const enabled = sippSuiteEnabled();
const BASE = e2ePorts(import.meta.url).base;

interface CallCase {
  uac: string;
  uas: string;
  daemonArgs?: string[];
  transport?: 'u1' | 't1';
  calls?: number;
  rate?: number;
  expectUas?: 'success' | 'any';
  /** Route through a relay that drops the first INVITE (UDP loss). */
  lossy?: boolean;
  /** Everything on ::1 instead of 127.0.0.1. */
  ipv6?: boolean;
}

/** Run one UAS + UAC pair through a fresh daemon; returns both results and the settled stats. */
async function runCase(index: number, c: CallCase): Promise<{ uac: SippResult; uas: SippResult; daemon: DaemonProcess }> {
  const sipPort = BASE + index * 10;
  const uasPort = sipPort + 1;
  const uacPort = sipPort + 2;
  const t = c.transport === 't1' ? 'tcp' : 'udp';
  const relayPort = sipPort + 3;
  const relay = c.lossy ? await startLossyRelay(relayPort, uasPort, 1) : undefined;
  const host = c.ipv6 ? '[::1]' : '127.0.0.1';
  const ip = c.ipv6 ? '::1' : '127.0.0.1';
  const daemon = await startDaemonProcess([
    '--listen', `udp:${host}:${sipPort},tcp:${host}:${sipPort}`,
    '--route', `sip:callee@${host}:${relay ? relayPort : uasPort};transport=${t}`,
    '--t1', '100', '--timer-d', '2000',
    ...(c.daemonArgs ?? []),
  ], sipPort + 5);
  const calls = c.calls ?? 1;
  const uas = startSipp({ scenario: c.uas, localPort: uasPort, calls, transport: c.transport, ip, timeoutMs: 120_000 });
  await uas.ready;
  const uac = await startSipp({
    scenario: c.uac, remote: `${host}:${sipPort}`, localPort: uacPort, service: 'callee', calls, ip,
    rate: c.rate ?? 10, durationMs: 200, transport: c.transport, timeoutMs: 120_000,
  }).done;
  const uasResult = await Promise.race([uas.done, new Promise<SippResult>((r) => setTimeout(() => { uas.kill(); void uas.done.then(r); }, 10_000))]);
  relay?.close();
  if (relay) expect(relay.dropped, 'the relay dropped the first INVITE').toBe(1);
  return { uac, uas: uasResult, daemon };
}

describe.skipIf(!enabled)('SIPp interop against the daemon', () => {
  const daemons: DaemonProcess[] = [];

  beforeAll(() => {
    if (!haveSipp()) throw new Error('sipp is not installed: apt-get install -y sip-tester');
  });
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
  });

  async function expectCall(index: number, c: CallCase, settleMs = 15_000): Promise<void> {
    const { uac, uas, daemon } = await runCase(index, c);
    daemons.push(daemon);
    expect(uac.code, `UAC ${describeRun(uac)}`).toBe(0);
    expect(uac.successful).toBe(c.calls ?? 1);
    if ((c.expectUas ?? 'success') === 'success') expect(uas.code, `UAS ${describeRun(uas)}`).toBe(0);
    const stats = await daemon.settle(settleMs);
    expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  }

  it('basic call over UDP: INVITE, 100, 180, 200, ACK, BYE', () => expectCall(0, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml' }));

  it('basic call over TCP', () => expectCall(1, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', transport: 't1' }));

  it('basic call over IPv6 (::1), UDP', () => expectCall(13, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', ipv6: true }));

  it('caller cancels while the callee rings: CANCEL reaches the callee, caller gets 487', () =>
    expectCall(2, { uac: 'uac-cancel-while-ringing.xml', uas: 'uas-ring-no-answer.xml' }));

  it('callee busy: 486 reaches the caller', () => expectCall(3, { uac: 'uac-call-expect-486.xml', uas: 'uas-busy-486.xml' }));

  it('callee rings and never answers: CANCEL after the ring timeout, caller gets 480', () =>
    expectCall(4, { uac: 'uac-call-expect-480.xml', uas: 'uas-ring-no-answer.xml', daemonArgs: ['--ring-timeout', '2'] }));

  it('callee never responds: timer B fires, caller gets 408', () =>
    expectCall(5, { uac: 'uac-call-expect-408.xml', uas: 'uas-silent.xml', expectUas: 'any' }));

  it('callee behind a 401 digest challenge: Patchbay answers it with the route credentials', () =>
    expectCall(6, { uac: 'uac-call-expect-200.xml', uas: 'uas-auth-401.xml', daemonArgs: ['--route-auth', 'alice:s3cret'] }));

  it('a BYE challenged by the callee is answered with the route credentials', () =>
    expectCall(12, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer-challenge-bye.xml', daemonArgs: ['--route-auth', 'alice:s3cret'] }));

  it('re-INVITE mid-call is relayed with its SDP', () => expectCall(7, { uac: 'uac-reinvite-expect-200.xml', uas: 'uas-answer.xml' }));

  it('lost first INVITE on the callee side is recovered by retransmission', () =>
    expectCall(8, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', lossy: true }));

  it('a source outside the ACL without credentials is refused with 403', () =>
    expectCall(9, { uac: 'uac-call-expect-403.xml', uas: 'uas-answer.xml', daemonArgs: ['--allow', 'none'], expectUas: 'any' }));

  // SIPp 3.6 answers only the first challenge and only with MD5, so this daemon offers MD5 alone
  it('a source outside the ACL is challenged and admitted with valid credentials', () =>
    expectCall(10, { uac: 'uac-auth-call-expect-200.xml', uas: 'uas-answer.xml', daemonArgs: ['--allow', 'none', '--credentials', 'alice:s3cret', '--digest-algorithms', 'MD5'] }));

  it('with the parser pool on: 1,000 calls at 200 per second, all successful, nothing leaked', () =>
    expectCall(14, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', calls: 1000, rate: 200, daemonArgs: ['--pool', 'on'] }, 30_000), 180_000);

  it('stress: 2,000 calls at 200 calls per second, all successful, nothing leaked', () =>
    expectCall(11, { uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', calls: 2000, rate: 200 }, 30_000), 180_000);
});
