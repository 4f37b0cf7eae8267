/**
 * Packet loss: Patchbay and SIPp in a network namespace of their own whose loopback drops 5 % of
 * packets at random each way (iptables' statistic match; this kernel has no netem). The rule is on
 * INPUT, which every loopback packet crosses whichever way it goes: a DROP on OUTPUT fails the
 * sender's sendto() with EPERM, a local error that the transaction layer rightly reports at once
 * (RFC 3261 §17.1.4: 503) rather than a loss on the wire that retransmission recovers. RFC 3261's retransmissions (SIPp's and Patchbay's timers) must carry every call to the
 * end, and the daemon must settle to zero live calls, dialogs and transactions. Needs root and
 * iptables: with CI=true it fails without them; otherwise it is skipped with the reason.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createNetns, netnsUnavailable, type Netns } from '../../bench/fuzz/netns.js';
import { startSipp, sippSuiteEnabled, haveSipp, describeRun } from './sipp.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';

const CALLS = 150;
const LOSS = 0.05;
/** Ports inside the namespace: nothing else runs there, so no shift is needed. */
const SIP = 5060;
const UAS = 5061;
const UAC = 5062;
const HTTP = 8080;

function haveIptables(): boolean {
  return spawnSync('iptables', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Why the test cannot run here, or undefined. */
function missing(): string | undefined {
  if (!haveSipp()) return 'sipp is not installed (apt-get install -y sip-tester)';
  const netns = netnsUnavailable();
  if (netns !== undefined) return `${netns} (the loss test needs root and iproute2)`;
  if (!haveIptables()) return 'iptables is not installed (apt-get install -y iptables)';
  return undefined;
}

const reason = missing();
const ci = process.env.CI === 'true';
if (reason !== undefined && !ci) console.warn(`loss.e2e: skipped: ${reason}`);

describe.skipIf(!sippSuiteEnabled() || (reason !== undefined && !ci))(`${LOSS * 100} % random packet loss each way in a network namespace`, () => {
  let netns: Netns | undefined;
  let daemon: DaemonProcess | undefined;

  beforeAll(() => {
    if (reason !== undefined) throw new Error(`the loss test cannot run: ${reason}`);
    netns = createNetns('patchbay-loss');
    netns.run('iptables', ['-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', String(LOSS), '-j', 'DROP']);
  });
  afterAll(async () => {
    await daemon?.stop();
    netns?.remove();
  });

  /** GET in the namespace (the test itself runs outside it). */
  const fetchText = (url: string): Promise<string> => new Promise((resolve, reject) => {
    const [command, args] = netns!.wrap(process.execPath, ['-e', `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })`]);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`GET ${url} in ${netns!.name}: ${err}`))));
  });

  it(`${CALLS} calls through Patchbay, every one completes (SIPp and Patchbay retransmit) and nothing is left live`, async () => {
    const wrap = netns!.wrap;
    daemon = await startDaemonProcess([
      '--listen', `udp:127.0.0.1:${SIP}`, '--route', `sip:callee@127.0.0.1:${UAS}`, '--t1', '200', '--timer-d', '4000',
    ], HTTP, { wrap, fetchText });
    const uas = startSipp({ scenario: 'uas-answer-lossy.xml', localPort: UAS, calls: CALLS, timeoutMs: 150_000, wrap });
    await uas.ready;
    const uac = await startSipp({
      scenario: 'uac-call-expect-200.xml', remote: `127.0.0.1:${SIP}`, localPort: UAC, service: 'callee',
      calls: CALLS, rate: 10, limit: 50, durationMs: 1000, timeoutMs: 150_000, wrap,
    }).done;
    const callee = await uas.done;
    const both = `caller: ${describeRun(uac)}\ncallee: ${describeRun(callee)}`;
    expect(uac.successful, both).toBe(CALLS);
    expect(uac.failed, both).toBe(0);
    expect(callee.successful, both).toBe(CALLS);
    // Timer D and 64*T1 (12.8 s) bound every transaction the losses left behind
    const stats = await daemon.settle(60_000);
    expect(stats).toMatchObject({ calls: 0, dialogs: 0, clientTx: 0, serverTx: 0 });
  }, 175_000);
});
