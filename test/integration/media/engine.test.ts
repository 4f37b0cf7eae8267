/**
 * MediaEngine with real rtpengine processes: the embedded one is started,
 * logged, restarted when it dies (its calls lost, new calls served again) and
 * stopped on close; external instances share the calls and one that does not
 * answer ping is skipped; DTMF log datagrams reach their call.
 */
import { createSocket } from 'node:dgram';
import { afterEach, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../../runtime/log.js';
import { MediaEngine, type DtmfEvent } from '../../../runtime/media/engine.js';
import { MediaUnavailableError } from '../../../runtime/media/errors.js';
import { describeMedia, freeUdpPort, startRtpengine, type TestRtpengine } from '../../support/rtp/rtpengine.js';
import { audioSdp, audioTarget } from '../../support/rtp/sdp.js';
import { waitUntil } from '../../support/wait.js';

interface Line { level: string; component: string; msg: string; [k: string]: unknown }

function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { lines, logger: createLogger('debug', 'test', (l) => { lines.push(JSON.parse(l) as Line); }) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

describeMedia('MediaEngine (embedded)', () => {
  it('starts rtpengine on loopback with an RTP range that avoids the SIP and HTTP ports, and stops it on close', async () => {
    const { logger, lines } = capture();
    const base = 40000 + 2 * Math.floor(Math.random() * 4000);
    const engine = await MediaEngine.start({ mode: 'embedded', logger, portMin: base, portMax: base + 99, avoidPorts: [base + 50, 5060] });
    cleanup.push(() => engine.close());
    const sup = engine.embedded;
    if (sup === undefined) throw new Error('embedded engine without supervisor');
    const { portMin, portMax } = sup.rtpRange;
    expect(base + 50 < portMin || base + 50 > portMax).toBe(true);
    expect(sup.ngPort < portMin || sup.ngPort > portMax).toBe(true);
    expect(lines.some((l) => l.msg === 'rtpengine ready')).toBe(true);

    const call = await engine.allocate();
    const offer = await call.ng.offer({ ...call.party('caller'), sdp: audioSdp('127.0.0.1', 40000) });
    const port = audioTarget(offer.sdp).port;
    expect(port).toBeGreaterThanOrEqual(portMin);
    expect(port).toBeLessThanOrEqual(portMax);

    // rtpengine's stderr is logged through our logger at its level
    await call.ng.request('no such command').catch(() => undefined);
    await waitUntil('rtpengine warning logged', () => lines.some((l) => l.component === 'test.media.rtpengine' && l.level === 'warn' && /Unrecognized command/.test(l.msg)));

    const pid = sup.pid as number;
    expect(alive(pid)).toBe(true);
    await engine.close();
    expect(alive(pid)).toBe(false);
    await expect(engine.allocate()).rejects.toBeInstanceOf(MediaUnavailableError);
  });

  it('restarts rtpengine when it dies: its calls are lost, new calls are served again', async () => {
    const { logger, lines } = capture();
    const engine = await MediaEngine.start({ mode: 'embedded', logger, initialBackoffMs: 50 });
    cleanup.push(() => engine.close());
    const sup = engine.embedded as NonNullable<typeof engine.embedded>;
    const call = await engine.allocate();
    await call.ng.offer({ ...call.party('caller'), sdp: audioSdp('127.0.0.1', 40000) });
    let lost = false;
    call.on('lost', () => { lost = true; });
    const firstPid = sup.pid as number;
    const ready = new Promise<void>((resolve) => sup.once('ready', resolve));
    process.kill(firstPid, 'SIGKILL');
    await waitUntil('call lost', () => lost);
    expect(call.ended).toBe(true);
    expect(lines.some((l) => l.level === 'error' && l.msg === 'rtpengine died; restarting')).toBe(true);
    await ready;
    expect(sup.pid).not.toBe(firstPid);
    const again = await engine.allocate();
    await expect(again.ng.offer({ ...again.party('caller'), sdp: audioSdp('127.0.0.1', 40000) })).resolves.toHaveProperty('sdp');
    expect(engine.load()).toEqual({ [again.instance]: 1 });
  });

  it('fails to start with a clear error when rtpengine is missing or exits at once', async () => {
    const { logger } = capture();
    await expect(MediaEngine.start({ mode: 'embedded', logger, binary: '/nonexistent/rtpengine' })).rejects.toThrow(/rtpengine not found at \/nonexistent\/rtpengine/);
    await expect(MediaEngine.start({ mode: 'embedded', logger, binary: '/bin/false' })).rejects.toThrow(/exited with code 1 before answering ping/);
  });
});

describeMedia('MediaEngine (external)', () => {
  let a: TestRtpengine;
  let b: TestRtpengine;

  it('spreads calls over the instances and skips one that does not answer ping', async () => {
    [a, b] = await Promise.all([startRtpengine(), startRtpengine()]);
    cleanup.push(() => a.stop(), () => b.stop());
    const dead = await freeUdpPort();
    const { logger, lines } = capture();
    const engine = await MediaEngine.start({
      mode: 'external', logger, pingTimeoutMs: 300, ngTimeoutMs: 1000,
      instances: [{ host: '127.0.0.1', port: a.ngPort }, { host: '127.0.0.1', port: dead }, { host: '127.0.0.1', port: b.ngPort }],
    });
    cleanup.push(() => engine.close());
    const calls = [];
    for (let i = 0; i < 6; i++) calls.push(await engine.allocate());
    expect(engine.load()).toEqual({ [`127.0.0.1:${a.ngPort}`]: 3, [`127.0.0.1:${dead}`]: 0, [`127.0.0.1:${b.ngPort}`]: 3 });
    expect(lines.filter((l) => l.msg === 'rtpengine does not answer ping; skipped')).toHaveLength(1);
    for (const c of calls) await c.ng.offer({ ...c.party('x'), sdp: audioSdp('127.0.0.1', 40000) });

    await calls[0]?.release();
    expect(engine.load()[`127.0.0.1:${a.ngPort}`]).toBe(2);

    await a.stop();
    const onB = await engine.allocate();
    expect(onB.instance).toBe(`127.0.0.1:${b.ngPort}`);
    await b.stop();
    const err = await engine.allocate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaUnavailableError);
    expect((err as Error).message).toMatch(/no rtpengine answers: .*no ping reply/);
  });

  it('hands each DTMF log datagram to its call and ignores bad ones', async () => {
    const dtmfPort = await freeUdpPort();
    const { logger, lines } = capture();
    const engine = await MediaEngine.start({ mode: 'external', logger, instances: [{ host: '127.0.0.1', port: (a = await startRtpengine()).ngPort }], dtmfLogListen: { host: '127.0.0.1', port: dtmfPort } });
    cleanup.push(() => a.stop(), () => engine.close());
    const call = await engine.allocate('dtmf-call-1');
    const got: DtmfEvent[] = [];
    call.on('dtmf', (e: DtmfEvent) => got.push(e));
    const s = createSocket('udp4');
    cleanup.push(() => { s.close(); });
    for (const d of ['garbage', JSON.stringify({ callid: 'other', event: 1 }), JSON.stringify({ callid: 'dtmf-call-1', source_tag: 'caller', event: 10, duration: 640 })]) {
      s.send(d, dtmfPort, '127.0.0.1');
    }
    await waitUntil('digit delivered', () => got.length === 1);
    expect(got[0]).toEqual({ digit: '*', event: 10, sourceTag: 'caller', duration: 640 });
    expect(lines.some((l) => l.msg === 'DTMF log datagram ignored' && l.reason === 'not JSON')).toBe(true);
  });
});

describeMedia('no rtpengine outlives Patchbay', () => {
  it('rtpengine stops when the process that started it is killed with SIGKILL', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const supervisor = fileURLToPath(new URL('../../../dist/runtime/media/supervisor.js', import.meta.url));
    const logMod = fileURLToPath(new URL('../../../dist/runtime/log.js', import.meta.url));
    const script = `const { RtpengineSupervisor } = await import(${JSON.stringify(supervisor)});
      const { createLogger } = await import(${JSON.stringify(logMod)});
      const s = new RtpengineSupervisor({ logger: createLogger('error') });
      await s.start();
      process.stdout.write('pid ' + s.pid + '\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
    let exited = false;
    parent.once('exit', () => { exited = true; });
    cleanup.push(() => { if (!exited) parent.kill('SIGKILL'); });
    await waitUntil('the child started rtpengine', () => /pid \d+/.test(out), { failFast: () => (exited ? 'the child exited' : undefined) });
    const pid = Number(/pid (\d+)/.exec(out)?.[1]);
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await waitUntil('rtpengine gone after its parent was killed', () => !alive(pid));
  });
});
