/**
 * The daemon's media engine: off, embedded (started with the daemon, off its
 * SIP and HTTP ports, stopped with it), external, and unavailable (a clear
 * error line, the daemon still starts).
 */
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../../runtime/config.js';
import { startDaemon, type Daemon } from '../../../runtime/daemon.js';
import { createLogger, type Logger } from '../../../runtime/log.js';
import { startMediaEngine } from '../../../runtime/media/start.js';
import { describeMedia, startRtpengine } from '../../support/rtp/rtpengine.js';
import { audioSdp, audioTarget } from '../../support/rtp/sdp.js';
import { waitUntil } from '../../support/wait.js';

interface Line { level: string; msg: string; [k: string]: unknown }
function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { lines, logger: createLogger('info', 'patchbay', (l) => { lines.push(JSON.parse(l) as Line); }) };
}
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

describeMedia('the daemon\'s media engine', () => {
  it('starts an embedded rtpengine with the daemon, away from its SIP and HTTP ports, and stops it on close', async () => {
    const { logger, lines } = capture();
    const config = loadConfig(['--listen', 'udp:127.0.0.1:0', '--webhook-thread', 'off', '--http', '127.0.0.1:0'], {});
    const daemon: Daemon = await startDaemon(config, logger);
    cleanup.push(() => daemon.close());
    const media = daemon.media;
    if (media === undefined) throw new Error(`no media engine: ${JSON.stringify(lines.filter((l) => l.level === 'error'))}`);
    const sup = media.embedded!;
    const sipPort = daemon.endpoints[0]!.port;
    expect(sipPort < sup.rtpRange.portMin || sipPort > sup.rtpRange.portMax).toBe(true);
    expect(sup.ngPort).not.toBe(sipPort);
    expect(lines.some((l) => l.msg === 'media through embedded rtpengine')).toBe(true);
    const call = await media.allocate();
    const offer = await call.ng.offer({ ...call.party('caller'), sdp: audioSdp('127.0.0.1', 40000) });
    expect(audioTarget(offer.sdp).port).toBeGreaterThanOrEqual(sup.rtpRange.portMin);
    const pid = sup.pid!;
    daemon.close();
    await waitUntil('rtpengine stopped with the daemon', () => !alive(pid));
  });

  it('--media off starts none and says so', async () => {
    const { logger, lines } = capture();
    expect(await startMediaEngine({ enabled: false }, { avoidPorts: [], logger })).toBeUndefined();
    expect(lines.map((l) => l.msg)).toContain('media off: signalling only');
  });

  it('without rtpengine installed: one clear error line, no engine (the daemon still starts)', async () => {
    const { logger, lines } = capture();
    expect(await startMediaEngine({ enabled: true }, { avoidPorts: [], logger, binary: '/nonexistent/rtpengine' })).toBeUndefined();
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/media unavailable: rtpengine not found at \/nonexistent\/rtpengine; install rtpengine-daemon, give --rtpengine, or run with --media off/);
  });

  it('--rtpengine uses the external instances instead', async () => {
    const external = await startRtpengine();
    cleanup.push(() => external.stop());
    const { logger } = capture();
    const media = await startMediaEngine({ enabled: true, rtpengine: [{ host: '127.0.0.1', port: external.ngPort }] }, { avoidPorts: [], logger });
    cleanup.push(() => media?.close());
    expect(media?.embedded).toBeUndefined();
    const call = await media!.allocate();
    expect(call.instance).toBe(`127.0.0.1:${external.ngPort}`);
  });
});
